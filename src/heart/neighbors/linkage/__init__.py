"""Record linkage of neighbor records (Splink)."""

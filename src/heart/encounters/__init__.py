"""encounters domain."""

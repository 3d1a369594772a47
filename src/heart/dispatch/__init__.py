"""dispatch domain."""

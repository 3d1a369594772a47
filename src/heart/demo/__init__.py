"""A Durham-like demo program: configuration, staff, one login per role, and (later) a simulated history."""

"""HEART: run an alternative crisis-response program end to end."""

__version__ = "0.1.0"

"""Encounters: what happened with the people met on a response, and the append-only narrative.

- ``models``; ``schemas``; ``service`` (entries are struck, never edited); ``api``; ``pages``.
"""

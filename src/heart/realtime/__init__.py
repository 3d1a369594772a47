"""Real-time updates: committed events wake every open page, in this process and in every other one.

On PostgreSQL a commit that appended events sends ``NOTIFY heart_events`` (delivered only if the transaction
commits) and each server process LISTENs; on SQLite the committing process wakes its own pages at once and
every process also watches the event log's highest id, so a second process (or the CLI) is heard within a
second. Pages then re-render their live fragments once per change per process (``feed.Feed``) and stream
them as server-sent events (``sse``).
"""

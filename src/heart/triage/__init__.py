"""triage domain."""

"""Dispatch: the one place a response is created, the queue, the board, the responder's phone.

- ``models`` responses, alerts, action tokens; ``schemas``; ``service`` assign (the guarded claim), status changes,
  cancel, backup; ``recommend`` units by time to scene; ``queue`` calls waiting and which fallback reason holds;
  ``flows`` the fallback and the escalation (dispatch and triage in order); ``timers`` safety timers and the
  maximum-wait prompt; ``alerts``; ``taps`` idempotent buttons; ``scheduled`` the timer sweep the app runs;
- ``board`` what the board shows (data); ``fragments`` the board's live fragments (view); ``pages`` the board's
  routes; ``responder`` the phone-sized view; ``api`` the JSON routes.
"""

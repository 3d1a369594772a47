"""The web layer's shared assets only: base templates (``templates/``) and static files (``static/``); no routes."""

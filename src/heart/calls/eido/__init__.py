"""NENA EIDO (NENA-STA-021 Emergency Incident Data Object) documents: the published schema, what a document says
about its call, receiving one, and its route (``POST /api/eido``)."""

"""Familiar neighbors: linking a person's records across encounters (proposals a reviewer inspects, accepts or
splits), flags for neighbors served often (approach notes, a reviewer, an expiry, an audited history) and the report
of how concentrated responses are."""

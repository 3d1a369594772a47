"""Every table, registered: import this module before the first session (the app factory, ``heart.console``, the
migrations and the tests do), so that metadata, foreign keys and Alembic see the whole schema.

``heart.db`` does not import it: the base knows no domain.
"""

from heart.auth.access import RestrictedRead
from heart.auth.models import LoginSession, LoginThrottle, Role, User
from heart.calls.callers import Caller
from heart.calls.models import CadRecord, Call, CallNote, ImportBatch, IncidentSequence
from heart.db import Base
from heart.dispatch.models import ActionToken, Alert, Response
from heart.encounters.models import Encounter, NarrativeEntry
from heart.events import Event
from heart.navigation.followups.models import ContactAttempt, FollowUp, FollowUpNeed, FollowUpNote, Referral
from heart.navigation.resources import models as resource_models  # noqa: F401  (the HSDS directory tables)
from heart.neighbors.familiar.models import FamiliarFlag, MatchDecision, MatchProposal
from heart.neighbors.models import Consent, Neighbor, NeighborLink, NeighborRead
from heart.places.models import AddressPoint, DuplicateFlag, LocationNote
from heart.programs.models import Program, ProgramMember, Shift, ShiftMember, Staff, Unit
from heart.public.models import EngagementRequest, InterestSignup, PublicFormAttempt
from heart.triage.models import PolicyVersion, TriageDecision

__all__ = [
    "ActionToken", "AddressPoint", "Alert", "Base", "CadRecord", "Call", "CallNote", "Caller", "Consent",
    "ContactAttempt", "DuplicateFlag", "Encounter", "EngagementRequest", "Event", "FamiliarFlag", "FollowUp",
    "FollowUpNeed", "FollowUpNote", "ImportBatch", "IncidentSequence", "InterestSignup", "LocationNote",
    "LoginSession", "LoginThrottle",
    "MatchDecision", "MatchProposal", "NarrativeEntry", "Neighbor", "NeighborLink", "NeighborRead", "PolicyVersion",
    "Program", "ProgramMember", "PublicFormAttempt", "Referral", "Response", "RestrictedRead", "Role", "Shift",
    "ShiftMember", "Staff", "TriageDecision", "Unit", "User",
]

"""The OpenAPI document's machine names are unique and stable, so a generated client survives a release.

Operation ids are "<tag>-<function name>" (``heart.main.operation_id``), independent of the path; schema names are
the classes' own names (two classes of one name would get module-qualified names, which change when code moves).
The lists below are the contract: renaming an operation or a schema means changing them here, on purpose.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from heart.config import Settings
from heart.main import create_app

OPERATION_IDS = [
    "accounts-create_user", "accounts-list_users", "accounts-login", "accounts-logout", "accounts-me",
    "calls-add_call_note", "calls-answer_screening", "calls-change_facts", "calls-create_call", "calls-get_call",
    "calls-get_call_events", "calls-list_call_notes", "calls-list_calls", "calls-post_eido", "calls-read_call_type",
    "calls-send_call_message", "dispatch-acknowledge", "dispatch-acknowledge_as_crew", "dispatch-assign_unit",
    "dispatch-cancel", "dispatch-check_in", "dispatch-clear", "dispatch-dispatch_queue", "dispatch-en_route",
    "dispatch-escalate", "dispatch-fall_back", "dispatch-get_response", "dispatch-in_service",
    "dispatch-list_responses", "dispatch-on_scene", "dispatch-open_alerts", "dispatch-out_of_service",
    "dispatch-recommendations", "dispatch-request_backup", "dispatch-transport", "encounters-append_narrative",
    "encounters-get_encounter", "encounters-strike_narrative", "familiar-neighbors-accept",
    "familiar-neighbors-end", "familiar-neighbors-get_report", "familiar-neighbors-list_flags",
    "familiar-neighbors-list_proposals", "familiar-neighbors-recount", "familiar-neighbors-reject",
    "familiar-neighbors-review_flag", "familiar-neighbors-run_linkage", "familiar-neighbors-split",
    "fhir-export_referral", "fhir-import_task", "follow-ups-acknowledge_alert", "follow-ups-add_need",
    "follow-ups-add_note", "follow-ups-close", "follow-ups-follow_up_queue", "follow-ups-get_follow_up",
    "follow-ups-make_referral", "follow-ups-move_referral", "follow-ups-open_case", "follow-ups-phone_handoff",
    "follow-ups-record_attempt", "follow-ups-strike_note", "neighbors-access_log", "neighbors-get_neighbor",
    "neighbors-give_consent", "neighbors-name_on_call", "neighbors-update_neighbor", "neighbors-withdraw_consent",
    "places-add_note", "places-call_place", "places-caller_reads", "places-decide_duplicate", "places-end_note",
    "places-get_caller", "places-lookup", "places-note_reads", "programs-create_staff", "programs-create_unit",
    "programs-delete_member", "programs-list_members", "programs-list_programs", "programs-list_units",
    "programs-off_duty", "programs-on_duty", "programs-put_member", "programs-put_program", "resources-get_service",
    "resources-get_service_document", "resources-list_languages", "resources-list_needs",
    "resources-search_services", "triage-decisions", "triage-hand_off", "triage-override", "triage-send_to_agency",
    "triage-triage",
]  # fmt: skip
SCHEMA_NAMES = [
    "AccessReadPublic", "AlertPublic", "AssignUnit", "AttemptCreate", "AttemptPublic", "BackupRequest",
    "CallCreate", "CallFactsUpdate", "CallMessageCreate", "CallNoteCreate", "CallNotePublic", "CallPlacePublic",
    "CallPublic", "CallSource", "CallStatus", "CallTypeReading", "CallerCreate", "CallerPublic", "CancelResponse",
    "CaseOpen", "ClearResponse", "ConsentGive", "ConsentPublic", "Contribution", "CrewMember", "DecisionPublic",
    "DuplicateDecision", "DuplicatePublic", "DutyEnd", "DutyStart", "EidoNotice", "EidoReceipt", "EncounterPublic",
    "Escalate", "EventPublic", "FallbackRequest", "FlagPublic", "FlagReview", "FlagStatus", "FollowUpClose",
    "FollowUpDetail", "FollowUpNeedPublic", "FollowUpPublic", "HTTPValidationError", "Handoff", "LanguagePublic",
    "LinkRunPublic", "LocationNoteCreate", "LocationNotePublic", "LoginRequest", "LoginResult", "MemberPublic",
    "MemberSet", "NameOnCall", "NarrativeAppend", "NarrativeEntryPublic", "NarrativeStrike", "NeedCreate",
    "NeedPublic", "NeighborPublic", "NeighborReadPublic", "NeighborUpdate", "NoteCreate", "NoteKind", "NotePublic",
    "NoteStrike", "OpenNow", "OutOfServiceRequest", "OverrideRequest", "PhoneHandoff", "PhonePublic",
    "PlaceHistoryPublic", "PlaceLookup", "PlaceMatch", "ProgramAccess", "ProgramConfig", "ProgramKind",
    "ProgramPublic", "ProposalPublic", "ProposalStatus", "QueuePublic", "QueuedCallPublic", "ReasonPublic",
    "RecommendationPublic", "RecountPublic", "ReferralCreate", "ReferralMove", "ReferralPublic", "ReferralStatus",
    "ReportPublic", "ResponsePublic", "Role", "ScreeningUpdate", "ServiceDetail", "ServicePage",
    "ServiceStatusPublic", "ServiceSummary", "SitePublic", "StaffCreate", "StaffPublic", "StatusUpdate",
    "TaskUpdateResult", "TransportStart", "TriageRequest", "TypeSuggestionPublic", "UnitCreate", "UnitPublic",
    "UnitStatus", "UserCreate", "UserPublic", "ValidationError",
]  # fmt: skip


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    path: Path = tmp_path_factory.mktemp("openapi") / "heart.db"
    app = create_app(Settings(env="test", database_url=f"sqlite:///{path}", cookie_secure=False))
    try:
        return app.openapi()
    finally:
        app.state.engine.dispose()
        app.state.read_engine.dispose()


def _operation_ids(document: dict[str, Any]) -> list[str]:
    return [operation["operationId"] for item in document["paths"].values() for operation in item.values()]


def test_every_operation_id_is_unique(document: dict[str, Any]) -> None:
    assert [name for name, n in Counter(_operation_ids(document)).items() if n > 1] == []


def test_schema_names_are_the_classes_own(document: dict[str, Any]) -> None:
    """A module-qualified name (heart__triage__schemas__DecisionPublic) means two schemas share a name."""
    assert [name for name in document["components"]["schemas"] if "__" in name or "-" in name] == []


def test_operation_ids_and_schema_names_change_only_on_purpose(document: dict[str, Any]) -> None:
    assert sorted(_operation_ids(document)) == OPERATION_IDS
    assert sorted(document["components"]["schemas"]) == SCHEMA_NAMES

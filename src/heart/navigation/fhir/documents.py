"""Building and reading FHIR documents for a referral — pure functions, no database.

Export: a ``collection`` Bundle of four resources, each constructed (and so validated) with fhir.resources:

- ``ServiceRequest`` ``referral-<id>``: the referral to an HSDS service (its id and name), for a need, authored when
  it was made, to the service's organization (performer), about the Patient;
- ``Task`` ``referral-<id>-task``: the referral's closed-loop status, which the partner updates (focus: the
  ServiceRequest; owner: the Organization); made → requested, accepted → accepted, completed → completed,
  declined → rejected, no response → cancelled;
- ``Patient`` ``neighbor-<id>``: only the fields the neighbor's consent to share with *that* provider names (the
  city's ``shares``), nothing else;
- ``Organization``: the HSDS organization of the service (its HSDS id as identifier, name, e-mail, website).

Import: a partner's ``Task`` (alone, or in a Bundle) whose status is accepted, in-progress, completed or rejected
becomes the referral's accepted, completed or declined. A document that is not a valid R4 Task, names no referral of
ours, or has a status HEART cannot take is refused with the FHIR path of each problem (``Task.status``), never its
values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from heart.errors import InvalidInput
from heart.navigation.followups.models import ReferralStatus

FHIR_VERSION = "4.3.0"  # R4B, the FHIR R4 line's release that fhir.resources >= 7 ships
HSDS_SERVICE = "https://docs.openreferral.org/en/latest/hsds/schema_reference.html#service"
HSDS_ORGANIZATION = "https://docs.openreferral.org/en/latest/hsds/schema_reference.html#organization"
HEART_REFERRAL = "urn:heart:referral"
TASK_STATUS = {ReferralStatus.MADE: "requested", ReferralStatus.ACCEPTED: "accepted",
               ReferralStatus.COMPLETED: "completed", ReferralStatus.DECLINED: "rejected",
               ReferralStatus.NO_RESPONSE: "cancelled"}
SERVICE_REQUEST_STATUS = {ReferralStatus.MADE: "active", ReferralStatus.ACCEPTED: "active",
                          ReferralStatus.COMPLETED: "completed", ReferralStatus.DECLINED: "revoked",
                          ReferralStatus.NO_RESPONSE: "revoked"}
# A partner's Task status → the referral's step; statuses that say "not yet" change nothing.
FROM_PARTNER = {"accepted": ReferralStatus.ACCEPTED, "in-progress": ReferralStatus.ACCEPTED,
                "completed": ReferralStatus.COMPLETED, "rejected": ReferralStatus.DECLINED}
NOT_YET = ("requested", "received", "ready", "on-hold")
TASK_STATUSES = (*FROM_PARTNER, *NOT_YET, "draft", "cancelled", "failed", "entered-in-error")  # R4's value set
_FOCUS = re.compile(r"^(?:.*/)?ServiceRequest/referral-(\d{1,12})$")
_OWNER = re.compile(r"^(?:.*/)?Organization/([A-Za-z0-9\-.]{1,64})$")


@dataclass(frozen=True, slots=True)
class Shared:
    """What the neighbor consented to share with the provider (None: not shared, or not on the record)."""

    id: int
    given: str | None = None
    family: str | None = None
    birth_date: date | None = None
    phone: str | None = None
    language: str | None = None
    address: str | None = None
    pronouns: str | None = None
    contact_times: str | None = None


@dataclass(frozen=True, slots=True)
class ReferralFacts:
    id: int
    status: ReferralStatus
    need: str  # in the city's words
    service_id: str
    service_name: str
    organization_id: str
    organization_name: str
    organization_email: str | None
    organization_website: str | None
    made_at: datetime
    last_step_at: datetime
    program_name: str  # who refers (the case program)


def referral_bundle(referral: ReferralFacts, patient: Shared, *, at: datetime) -> dict[str, Any]:
    """The referral as a FHIR Bundle (JSON-ready), every resource built through fhir.resources."""
    patient_ref = f"Patient/neighbor-{patient.id}"
    organization_ref = f"Organization/{referral.organization_id}"
    request_ref = f"ServiceRequest/referral-{referral.id}"
    identifier = [{"system": HEART_REFERRAL, "value": str(referral.id)}]
    resources = [
        ServiceRequest.model_validate({
            "resourceType": "ServiceRequest", "id": f"referral-{referral.id}", "identifier": identifier,
            "status": SERVICE_REQUEST_STATUS[referral.status], "intent": "order",
            "code": {"coding": [{"system": HSDS_SERVICE, "code": referral.service_id,
                                 "display": referral.service_name}], "text": referral.service_name},
            "reasonCode": [{"text": referral.need}], "subject": {"reference": patient_ref},
            "authoredOn": _instant(referral.made_at), "performer": [{"reference": organization_ref,
                                                                     "display": referral.organization_name}],
            "requester": {"display": referral.program_name},
        }),
        Task.model_validate({
            "resourceType": "Task", "id": f"referral-{referral.id}-task", "identifier": identifier,
            "status": TASK_STATUS[referral.status], "intent": "order", "focus": {"reference": request_ref},
            "for": {"reference": patient_ref}, "owner": {"reference": organization_ref},
            "authoredOn": _instant(referral.made_at), "lastModified": _instant(referral.last_step_at),
            "businessStatus": {"text": referral.status.value.replace("_", " ")},
        }),
        Patient.model_validate(_patient(patient)),
        Organization.model_validate(_organization(referral)),
    ]
    bundle = Bundle.model_validate({
        "resourceType": "Bundle", "type": "collection", "timestamp": _instant(at),
        "meta": {"tag": [{"system": "urn:heart:fhir-version", "code": FHIR_VERSION}]},
        "entry": [{"fullUrl": f"urn:heart:{r.get_resource_type()}/{r.id}", "resource": r} for r in resources],
    })
    return bundle.model_dump(mode="json", by_alias=True, exclude_none=True)


def _patient(shared: Shared) -> dict[str, Any]:
    patient: dict[str, Any] = {"resourceType": "Patient", "id": f"neighbor-{shared.id}"}
    if shared.given or shared.family:
        patient["name"] = [{k: v for k, v in (("family", shared.family),
                                              ("given", [shared.given] if shared.given else None)) if v}]
    if shared.birth_date:
        patient["birthDate"] = shared.birth_date.isoformat()
    if shared.phone:
        patient["telecom"] = [{"system": "phone", "value": shared.phone, "use": "mobile"}]
    if shared.address:
        patient["address"] = [{"text": shared.address}]
    if shared.language:
        patient["communication"] = [{"language": {"text": shared.language}, "preferred": True}]
    extras = [f"pronouns: {shared.pronouns}" if shared.pronouns else None,
              f"best time to reach: {shared.contact_times}" if shared.contact_times else None]
    if any(extras):
        patient["text"] = {"status": "generated", "div": _div("; ".join(e for e in extras if e))}
    return patient


def _div(words: str) -> str:
    escaped = words.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<div xmlns="http://www.w3.org/1999/xhtml">{escaped}</div>'


def _organization(referral: ReferralFacts) -> dict[str, Any]:
    telecom = [{"system": system, "value": value} for system, value in (
        ("email", referral.organization_email), ("url", referral.organization_website)) if value]
    return {"resourceType": "Organization", "id": referral.organization_id, "active": True,
            "identifier": [{"system": HSDS_ORGANIZATION, "value": referral.organization_id}],
            "name": referral.organization_name, **({"telecom": telecom} if telecom else {})}


def _instant(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class TaskUpdate:
    """What a partner's Task says about a referral of ours."""

    referral_id: int
    task_status: str
    step: ReferralStatus | None  # None: a status that says "not yet" (requested, received, ready, on hold)
    at: datetime | None  # its lastModified
    owner_organization_id: str | None


class FhirInvalid(InvalidInput):
    """A FHIR document HEART refuses; ``details`` lists each problem at its FHIR path."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {why}" for path, why in problems), field=problems[0][0])
        self.details = [{"loc": ["body", path], "msg": why, "type": "fhir"} for path, why in problems]


def read_task_update(document: object) -> TaskUpdate:
    """The partner's Task (alone or the one Task of a Bundle), checked as an R4 Task; refused with FHIR paths."""
    if not isinstance(document, dict):
        raise FhirInvalid([("Task", "the document is not a FHIR resource (a JSON object)")])
    task_json, where = _the_task(document)
    try:
        task = Task.model_validate(task_json)
    except ValidationError as error:
        raise FhirInvalid([(where + _path(e["loc"]), _why(e)) for e in error.errors()]) from None
    problems = []
    if task.status not in TASK_STATUSES:
        problems.append((f"{where}.status", f"is not a FHIR R4 task status ({', '.join(TASK_STATUSES)})"))
    elif task.status not in FROM_PARTNER and task.status not in NOT_YET:
        problems.append((f"{where}.status", "HEART takes accepted, in-progress, completed or rejected from a partner "
                                            f"(or {', '.join(NOT_YET)}, which change nothing)"))
    focus = _FOCUS.match(task.focus.reference or "") if task.focus is not None else None
    if focus is None:
        problems.append((f"{where}.focus", "must reference the referral's ServiceRequest "
                                           "(ServiceRequest/referral-<id>, as HEART sent it)"))
    owner = _OWNER.match(task.owner.reference or "") if task.owner is not None else None
    if task.owner is not None and owner is None:
        problems.append((f"{where}.owner", "must reference an Organization (Organization/<HSDS id>)"))
    if problems:
        raise FhirInvalid(problems)
    assert focus is not None
    modified = task.lastModified
    if modified is not None and modified.tzinfo is None:
        raise FhirInvalid([(f"{where}.lastModified", "needs a time zone")])
    return TaskUpdate(referral_id=int(focus.group(1)), task_status=str(task.status),
                      step=FROM_PARTNER.get(str(task.status)), at=modified,
                      owner_organization_id=owner.group(1) if owner else None)


def _the_task(document: dict[str, Any]) -> tuple[dict[str, Any], str]:
    kind = document.get("resourceType")
    if kind == "Task":
        return document, "Task"
    if kind == "Bundle":
        found = document.get("entry")
        entries: list[Any] = found if isinstance(found, list) else []
        tasks = [(i, e["resource"]) for i, e in enumerate(entries)
                 if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                 and e["resource"].get("resourceType") == "Task"]
        if len(tasks) != 1:
            raise FhirInvalid([("Bundle.entry", f"must hold exactly one Task (it holds {len(tasks)})")])
        index, task = tasks[0]
        return task, f"Bundle.entry[{index}].resource"
    raise FhirInvalid([("resourceType", "must be Task (or a Bundle holding one Task)")])


def _path(loc: Sequence[int | str]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _why(error: Any) -> str:
    """Pydantic's reason without the value it was given (a document may carry personal data)."""
    message = str(error["msg"])
    return message.split(" [", 1)[0]

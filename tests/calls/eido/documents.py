"""EIDO 1.0 documents for tests, in the shapes of the standard's own samples (NENA911/EIDO-JSON ``Samples/``).

``call_transfer`` follows "Sample call transfer EIDO.json": what a PSAP sends first — call, callback, agency, agent,
two locations (a routing location by value, the caller's by reference) and the caller as a person, no incident.
``incident_update`` is what the CAD sends later for the same incident (the document's ``$id``): the incident with
its type, priority, beat and notes. ``eido`` is one complete document (incident, call, location, notes), as a CAD
that sends everything at once. The values are made up; every document here passes the published schema
(``tests/calls/eido/published.py`` checks them without HEART's code).
"""

from __future__ import annotations

import copy
from typing import Any

AGENCY = "psap.durhamnc.gov"
INCIDENT_ID = f"urn:emergency:uid:incidentid:a56e556d871:{AGENCY}"
CALL_ID = f"urn:emergency:uid:callid:77e1:{AGENCY}"
AGENT = f"call-taker-5@{AGENCY}"
# Personal values the tests look for everywhere they must not appear.
CALLER_GIVEN, CALLER_SURNAME = "Marisol", "Quintanilla-Oduya"
CALLBACK_NUMBER = "9195550142"
CALLBACK_URIS = [f"sip:{CALLBACK_NUMBER}@carrier.example.net", f"tel:+1{CALLBACK_NUMBER}"]

PIDF_LO = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" '
    'xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr" xmlns:gml="http://www.opengis.net/gml" '
    'entity="pres:caller@example.com"><tuple id="t1"><status><gp:geopriv><gp:location-info>'
    "<ca:civicAddress><ca:country>US</ca:country><ca:A1>NC</ca:A1><ca:A3>Durham</ca:A3><ca:HNO>101</ca:HNO>"
    "<ca:RD>City Hall</ca:RD><ca:STS>Plaza</ca:STS></ca:civicAddress>"
    '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326"><gml:pos>35.9940 -78.8986</gml:pos></gml:Point>'
    "</gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple></presence>"
)
# The sample's routing location: a civic address only (no point), inside a device element.
ROUTING_PIDF_LO = (
    '<?xml version="1.0" encoding="UTF-8"?> <presence xmlns="urn:ietf:params:xml:ns:pidf" '
    'xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" '
    'entity="pres:device@carrier.example.net"> <dm:device id="target123-1"> <gp:geopriv> <gp:location-info> '
    '<civicAddress xmlns="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr"> <country>US</country> <A1>NC</A1> '
    "<A3>Durham</A3> <PRD>W</PRD> <RD>Main</RD> <STS>Street</STS> <HNO>410</HNO> </civicAddress> "
    "</gp:location-info> <gp:usage-rules/> <gp:method>Cell</gp:method> </gp:geopriv> </dm:device> </presence>"
)


def prologue(stamp: str, *, agent: bool = False) -> dict[str, Any]:
    """The prologue every data component carries (``PrologueType``)."""
    return {"lastUpdateTimeStamp": stamp, "updatedByAgencyReference": {"$ref": AGENCY},
            **({"updatedByAgentReference": {"$ref": AGENT}} if agent else {})}


def _header(stamp: str, incident_id: str) -> dict[str, Any]:
    return {
        "$id": incident_id,
        **prologue(stamp, agent=True),
        "eidoVersion": "1.0",
        "issuingElementIdentification": f"cad.{AGENCY}",
        "agencyComponent": [{"$id": AGENCY, **prologue(stamp), "agencyRoleDescriptionRegistryText": ["CallReceiving"],
                             "agencyType": ["psap"]}],
        "@context": {"@vocab": "./JSON-LD_Contexts/EmergencyIncidentDataObjectType.jsonld"},
    }


def _call(stamp: str, **extra: Any) -> dict[str, Any]:
    return {"$id": CALL_ID, **prologue(stamp, agent=True), "queueIdentifier": f"sos@{AGENCY}",
            "standardPrimaryCallType": "emergency", "direction": "incoming",
            "callStartTimestamp": "2025-10-01T14:01:30.0Z", "answerDate": "2025-10-01T14:01:42.0Z",
            "callStateRegistryText": "callAnswered", **extra}


def call_transfer(stamp: str = "2025-10-01T14:02:10.000Z", *, incident_id: str = INCIDENT_ID) -> dict[str, Any]:
    """A PSAP's call transfer: call, callback, agent, locations and the caller; no incident component."""
    document = _header(stamp, incident_id)
    document.update({
        "callComponent": [_call(stamp, callBackReference={"$ref": "callback-1"}, agentReference=[{"$ref": AGENT}],
                                locationReference=[{"$ref": "loc-routing"}, {"$ref": "loc-caller"}],
                                personReference=[{"$ref": "person-caller"}])],
        "callbackComponent": [{"$id": "callback-1", **prologue(stamp), "callBackInformationUri": CALLBACK_URIS,
                               "deviceContactHeader": "sip:conference3053@bridge.example.net;isfocus"}],
        "agentComponent": [{"$id": AGENT, **prologue(stamp, agent=True), "agentWorkstationPositionIdentification": "5",
                            "agentRoleRegistryText": ["Call Taking"], "agencyReference": {"$ref": AGENCY}}],
        "locationComponent": [
            {"$id": "loc-routing", **prologue(stamp), "locationTypeDescriptionRegistryText": "RoutingLocation",
             "locationByValue": ROUTING_PIDF_LO},
            {"$id": "loc-caller", **prologue(stamp), "locationTypeDescriptionRegistryText": "Caller",
             "locationByReferenceUrl": "https://lis.carrier.example.net/location?id=oasufdqwerjn12346jfias"},
        ],
        "personComponent": [{
            "$id": "person-caller", **prologue(stamp), "personIncidentRoleRegistryText": ["Caller"],
            "callIdentifier": [CALL_ID], "callBackReference": {"$ref": "callback-1"},
            "ncPersonComponent": {"name": [{"personGivenName": [{"value": CALLER_GIVEN}],
                                            "personSurName": [{"value": CALLER_SURNAME}]}]},
        }],
    })
    return document


def incident_update(stamp: str = "2025-10-01T14:06:00.000Z", *, incident_id: str = INCIDENT_ID,
                    notes: str = "<p>Neighbour talking to himself &amp; pacing, <b>no weapon</b> seen.</p>",
                    **incident: Any) -> dict[str, Any]:
    """The CAD's later document for the same incident: its type, priority, beat and notes."""
    document = _header(stamp, incident_id)
    document.update({
        "incidentComponent": {
            "$id": f"{incident_id}:incident", **prologue(stamp),
            "incidentTypeCommonRegistryText": "Police", "incidentTypeInternalCode": "MH",
            "incidentTypeInternalText": "MENTAL HEALTH CASE", "incidentPriorityInternalText": "3",
            "beatOrDispatchGroupText": "D2", "notesReference": [{"$ref": "note-1"}], **incident,
        },
        "notesComponent": [{"$id": "note-1", **prologue(stamp), "notesActionComments": notes}],
    })
    return document


def eido(stamp: str = "2025-10-01T14:03:00.000Z", *, incident_id: str = INCIDENT_ID, **incident: Any) -> dict[str, Any]:
    """One complete document: incident, call, its location (PIDF-LO with a point) and notes."""
    document = incident_update(stamp, incident_id=incident_id, **{"locationReference": [{"$ref": "loc-1"}], **incident})
    document["callComponent"] = [_call(stamp)]
    document["locationComponent"] = [{"$id": "loc-1", **prologue(stamp),
                                      "locationTypeDescriptionRegistryText": "Incident", "locationByValue": PIDF_LO}]
    return document


def changed(document: dict[str, Any], value: Any, *path: Any) -> dict[str, Any]:
    """A copy of ``document`` with the value at ``path`` replaced."""
    copied = copy.deepcopy(document)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return copied


def without(document: dict[str, Any], *path: Any) -> dict[str, Any]:
    """A copy of ``document`` with the value at ``path`` removed."""
    copied = copy.deepcopy(document)
    target = copied
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return copied

"""EIDO intake benchmark: what checking documents against the published NENA schema costs, and a document's way in.

    .venv/bin/python benchmarks/eido.py [--documents 300] [--database sqlite|postgresql://…] [--json]

Prints: the schema's first load (openapi.yaml), the first document that needs the NIEM files (a person's name:
nc.yaml, niem-xs.yaml; a vehicle: j.yaml, 700 kB), then the median time to check a call transfer and a complete
document once the files are read; then the time per document of ``receive_eido`` on a database (check, read,
write the call and its events, commit) for new incidents, their updates and repeats.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from heart.calls.eido.flows import receive_eido  # noqa: E402
from heart.calls.eido.standard import EidoSchema, schema_folder  # noqa: E402
from heart.config import Settings  # noqa: E402
from heart.db import make_engine, make_sessionmaker, transaction, utcnow  # noqa: E402
from heart.migrate import upgrade  # noqa: E402
from tests.calls.eido.documents import call_transfer, eido, incident_update  # noqa: E402


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def checking(schema_dir: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    holder: list[EidoSchema] = []
    figures["schema_load_ms"] = timed(lambda: holder.append(EidoSchema(schema_dir)))
    schema = holder[0]
    figures["first_person_document_ms"] = timed(lambda: schema.problems(call_transfer()))
    vehicle = call_transfer()
    vehicle["vehicleComponent"] = [{
        "$id": "v", "lastUpdateTimeStamp": "2025-10-01T14:02:00Z", "updatedByAgencyReference": {"$ref": "x"},
        "vehicleRelationshipType": ["Involved"], "vehicleRelationshipTimeStamp": "2025-10-01T14:02:00Z",
        "jCommercialVehicleComponent": {"isPreviouslyTargeted": [{"value": True}]}}]
    figures["first_vehicle_document_ms"] = timed(lambda: schema.problems(vehicle))
    for name, document in (("call_transfer", call_transfer()), ("complete_document", eido())):
        figures[f"check_{name}_median_ms"] = statistics.median(
            timed(lambda document=document: schema.problems(document)) for _ in range(500))
    return figures


def intake(schema_dir: Path, url: str, documents: int) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    schema = EidoSchema(schema_dir)
    schema.problems(call_transfer())  # the files are read once per process, not per document
    figures: dict[str, float] = {}
    try:
        for phase, build in (("new_incident", call_transfer), ("incident_update", incident_update),
                             ("repeat", incident_update)):
            spent = []
            for number in range(documents):
                document = build(incident_id=f"urn:emergency:uid:incidentid:bench{number:05d}:psap.example.gov")

                def receive(document: dict[str, Any] = document) -> None:
                    with transaction(sessions) as session:
                        receive_eido(session=session, document=document, schema=schema, now=utcnow(), actor_id=None)

                spent.append(timed(receive))
            figures[f"{phase}_median_ms"] = statistics.median(spent)
            figures[f"{phase}_p95_ms"] = sorted(spent)[int(len(spent) * 0.95) - 1]
    finally:
        engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=300, help="incidents per phase")
    parser.add_argument("--database", default="sqlite", help="'sqlite' (a temporary file) or a PostgreSQL URL")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    schema_dir = schema_folder(Settings(env="test").shared_data)
    figures = checking(schema_dir)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/eido.db" if args.database == "sqlite" else args.database
        figures.update(intake(schema_dir, url, args.documents))
    if args.json:
        print(json.dumps({name: round(value, 3) for name, value in figures.items()}, indent=2))
        return
    print(f"EIDO intake ({args.database}, {args.documents} incidents per phase)")
    for name, value in figures.items():
        print(f"  {name:32} {value:9.2f}")


if __name__ == "__main__":
    main()

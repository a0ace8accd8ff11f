"""FHIR R4 out: a practice's administrations as QuestionnaireResponses, Observations and Bundles.

From the plain records of :mod:`commonfactors.tidy` (already pseudonymised by the caller):

- :func:`administration_response` — one administration as a ``QuestionnaireResponse``: the
  answers as given, coded as :func:`commonfactors.fhir.questionnaire` offers them, to the
  instrument's canonical Questionnaire at the definition version that scored it; scoring it
  again with :func:`commonfactors.fhir.score_response` gives the stored total.
- :func:`score_observation` — its score as an ``Observation`` (category ``survey``): coded
  with the instrument's LOINC total-score code where the definition has one, and always
  with our own code; the total as a ``valueQuantity`` in the UCUM unit ``{score}``, the
  severity band as the interpretation's text, caseness and a risk answer as components,
  the session date as the effective date, and ``derivedFrom`` the response.
- :func:`patient` — the subject: a ``Patient`` with nothing but the pseudonymous id (and,
  in an identified export, the practice's client code).
- :func:`bundle` and :func:`client_bundles` — a ``Bundle`` of type ``collection`` for a
  whole export, or one per client.

Resource ids are UUIDs derived from the pseudonymous ids (UUID version 5), so exporting the
same records twice gives the same ids; every reference is to a ``urn:uuid:`` full URL within
the bundle, and a subject reference also carries the pseudonymous identifier, so a resource
read alone still names its client. Nothing is validated here, for speed (a practice holds
thousands of administrations): :func:`commonfactors.fhir.validate_resource` validates any of
these resources with the ``fhir.resources`` R4B models, and the test suite does so for
every kind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from commonfactors.errors import ScoringError
from commonfactors.fhir import (
    CANONICAL_BASE,
    LOINC_SYSTEM,
    _number,
    questionnaire_url,
    response_items,
)
from commonfactors.instruments.registry import get_instrument
from commonfactors.tidy import AdministrationRecord

__all__ = [
    "ADMINISTRATION_SYSTEM",
    "CLIENT_CODE_SYSTEM",
    "PSEUDONYM_SYSTEM",
    "SCORE_SYSTEM",
    "administration_response",
    "bundle",
    "client_bundles",
    "patient",
    "resource_id",
    "score_observation",
]

#: The identifier system of a client's pseudonymous id (a keyed hash of the practice).
PSEUDONYM_SYSTEM = f"{CANONICAL_BASE}/NamingSystem/client-pseudonym"
#: The identifier system of the practice's own client code (identified exports only).
CLIENT_CODE_SYSTEM = f"{CANONICAL_BASE}/NamingSystem/client-code"
#: The identifier system of an administration: ``<episode id>/<session>/<instrument>``.
ADMINISTRATION_SYSTEM = f"{CANONICAL_BASE}/NamingSystem/administration"
#: Our code system for scores (``<instrument>-total``) and their components.
SCORE_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/score"
_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
_UCUM = "http://unitsofmeasure.org"
#: The namespace of our resource ids (UUID version 5 names).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, f"{CANONICAL_BASE}/resource-id")


def resource_id(kind: str, *parts: object) -> str:
    """The id of a resource of ``kind`` named by ``parts``: a UUID, the same every time."""
    name = "\x1f".join([kind, *(str(p) for p in parts)])
    return str(uuid.uuid5(_NAMESPACE, name))


def _url(resource_id_: str) -> str:
    return f"urn:uuid:{resource_id_}"


def _subject(client: str) -> dict[str, Any]:
    return {
        "reference": _url(resource_id("Patient", client)),
        "type": "Patient",
        "identifier": {"system": PSEUDONYM_SYSTEM, "value": client},
    }


def _administration_key(a: AdministrationRecord) -> str:
    return f"{a.episode}/{a.session}/{a.instrument}"


def patient(client: str, *, code: str | None = None) -> dict[str, Any]:
    """The subject of a client's resources: the pseudonymous id, and the practice's client
    code only when ``code`` is given (an identified export). No name, birth date, gender or
    contact: those never leave the practice in an export."""
    identifiers = [{"system": PSEUDONYM_SYSTEM, "value": client}]
    if code:
        identifiers.append({"system": CLIENT_CODE_SYSTEM, "value": code})
    return {
        "resourceType": "Patient",
        "id": resource_id("Patient", client),
        "identifier": identifiers,
    }


def administration_response(a: AdministrationRecord, *, language: str = "en") -> dict[str, Any]:
    """One administration as a FHIR R4 QuestionnaireResponse (see the module docstring).
    Raises :class:`ScoringError` naming every answer that is not one of its item's options
    and every unknown item."""
    inst = get_instrument(a.instrument)
    d = inst.definition
    items = response_items(inst, a.answers, language=language, where=_administration_key(a))
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id("QuestionnaireResponse", a.client, _administration_key(a)),
        "identifier": {"system": ADMINISTRATION_SYSTEM, "value": _administration_key(a)},
        "questionnaire": f"{questionnaire_url(d.id)}|{a.definition_version}",
        "status": "completed",
        "subject": _subject(a.client),
        "authored": a.date.isoformat(),
    }
    if items:
        resource["item"] = items
    return resource


def _flag(code: str, display: str, value: bool) -> dict[str, Any]:
    return {
        "code": {"coding": [{"system": SCORE_SYSTEM, "code": code, "display": display}]},
        "valueBoolean": value,
    }


def score_observation(a: AdministrationRecord) -> dict[str, Any]:
    """The score of one administration as a FHIR R4 Observation (see the module docstring)."""
    d = get_instrument(a.instrument).definition
    name = f"{d.short_name} total score"
    codings = [{"system": LOINC_SYSTEM, "code": d.loinc.total}] if d.loinc.total else []
    codings.append({"system": SCORE_SYSTEM, "code": f"{d.id}-total", "display": name})
    key = _administration_key(a)
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id("Observation", a.client, key),
        "identifier": [{"system": ADMINISTRATION_SYSTEM, "value": f"{key}/total"}],
        "status": "final",
        "category": [
            {"coding": [{"system": _CATEGORY_SYSTEM, "code": "survey", "display": "Survey"}]}
        ],
        "code": {"coding": codings, "text": name},
        "subject": _subject(a.client),
        "effectiveDateTime": a.date.isoformat(),
        "valueQuantity": {
            "value": _number(a.total),
            "unit": "{score}",
            "system": _UCUM,
            "code": "{score}",
        },
    }
    if a.band:
        resource["interpretation"] = [{"text": a.band}]
    resource["method"] = {
        "text": f"{d.short_name} scored by its published rules (commonfactors instrument "
        f"definition {d.id} version {a.definition_version})"
    }
    resource["derivedFrom"] = [
        {
            "reference": _url(resource_id("QuestionnaireResponse", a.client, key)),
            "type": "QuestionnaireResponse",
        }
    ]
    components = []
    if a.caseness is not None:
        components.append(_flag("caseness", "At or above the caseness cut-off", a.caseness))
    if d.risk:
        components.append(
            _flag("risk-answer", "A risk item answered at its threshold", bool(a.risk_items))
        )
    if components:
        resource["component"] = components
    return resource


def bundle(
    administrations: Iterable[AdministrationRecord],
    *,
    client_codes: Mapping[str, str] | None = None,
    timestamp: datetime | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """A Bundle of type ``collection``: a Patient per client, then for each administration
    its QuestionnaireResponse and score Observation. ``client_codes`` (pseudonymous id →
    client code) adds the practice's codes to the Patients (an identified export);
    ``timestamp`` (timezone-aware) is when the bundle was assembled. Raises
    :class:`ScoringError` naming every administration that cannot be written."""
    records = list(administrations)
    if timestamp is not None and timestamp.utcoffset() is None:
        raise ScoringError("the bundle's timestamp must carry a time zone")
    resources: list[dict[str, Any]] = [
        patient(c, code=(client_codes or {}).get(c))
        for c in sorted(dict.fromkeys(a.client for a in records))
    ]
    problems: list[str] = []
    for a in records:
        try:
            resources.append(administration_response(a, language=language))
        except ScoringError as exc:
            problems += [f"{_administration_key(a)}: {p}" for p in exc.problems]
            continue
        resources.append(score_observation(a))
    if problems:
        raise ScoringError("the administrations cannot be written as FHIR", problems)
    ids = sorted(r["id"] for r in resources)
    out: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": resource_id("Bundle", *ids),
        "type": "collection",
    }
    if timestamp is not None:
        out["timestamp"] = timestamp.isoformat()
    if resources:
        out["entry"] = [{"fullUrl": _url(r["id"]), "resource": r} for r in resources]
    return out


def client_bundles(
    administrations: Sequence[AdministrationRecord],
    *,
    client_codes: Mapping[str, str] | None = None,
    timestamp: datetime | None = None,
    language: str = "en",
) -> dict[str, dict[str, Any]]:
    """One :func:`bundle` per client: pseudonymous id → Bundle, in id order."""
    by_client: dict[str, list[AdministrationRecord]] = {}
    for a in administrations:
        by_client.setdefault(a.client, []).append(a)
    return {
        client: bundle(
            by_client[client], client_codes=client_codes, timestamp=timestamp, language=language
        )
        for client in sorted(by_client)
    }

"""FHIR R4: instruments as Questionnaires, QuestionnaireResponses scored by the published rules.

- :func:`questionnaire` exports an instrument as a FHIR R4 ``Questionnaire`` (a JSON-ready
  dict, validated before it is returned): LOINC codes where the definition has them, item
  text where a text pack is loaded, and each option's value as the standard
  ``ordinalValue`` extension.
- :func:`score_response` scores a ``QuestionnaireResponse`` exactly as :func:`score` scores
  a list of answers: items are matched by item id or LOINC code, answers by LOINC answer
  code, our own code system, an ``ordinalValue`` extension, or a plain number. Every
  problem is listed at once; a stated total is checked, never trusted.
- :func:`questionnaire_response` writes one administration as a ``QuestionnaireResponse``.
- :func:`validate_resource` checks a resource against the ``fhir.resources`` R4B models.

FHIR R4B (4.3.0) left Questionnaire and QuestionnaireResponse as they were in R4 (4.0.1), so
the R4B models of ``fhir.resources`` validate R4 resources of these two types.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeGuard, get_args

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.resource import Resource
from pydantic import BaseModel, ValidationError

from commonfactors.errors import ScoringError, UnknownInstrumentError
from commonfactors.instruments.registry import Instrument, default_registry, get_instrument
from commonfactors.instruments.schema import Definition, Item, ResponseOption, ResponseSet
from commonfactors.instruments.textpack import TextPack
from commonfactors.scoring import Score, score

__all__ = [
    "CANONICAL_BASE",
    "LOINC_SYSTEM",
    "ORDINAL_VALUE_URL",
    "ResponseScore",
    "answer_system",
    "questionnaire",
    "questionnaire_response",
    "questionnaire_url",
    "score_response",
    "validate_resource",
]

#: The base of our canonical URLs: names, never fetched.
CANONICAL_BASE = "https://commonfactors.dev/fhir"
LOINC_SYSTEM = "http://loinc.org"
#: The R4 core extension that carries an answer's numeric value (for adding up a score).
ORDINAL_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
#: Also read on input: the R4 ballot name, the R3 name, and R5's ``itemWeight``.
_ORDINAL_URLS = frozenset(
    {
        ORDINAL_VALUE_URL,
        "http://hl7.org/fhir/StructureDefinition/questionnaire-ordinalValue",
        "http://hl7.org/fhir/StructureDefinition/iso21090-CO-value",
        "http://hl7.org/fhir/StructureDefinition/itemWeight",
    }
)
_LOINC_Q = f"{LOINC_SYSTEM}/q/"
_TEXT_NOT_SHIPPED = "Item {number} (text not shipped — load a licensed text pack)"
_UNMATCHED = "<unmatched answer>"  # handed to the scorer: invalid, so not counted as missing


@dataclass(frozen=True)
class ResponseScore:
    """The score of a QuestionnaireResponse, with what the response itself claimed."""

    instrument: str
    score: Score
    stated_total: float | None
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """The score's plain fields plus ``stated_total`` and ``warnings``."""
        return {
            **self.score.as_dict(),
            "stated_total": self.stated_total,
            "warnings": list(self.warnings),
        }


# --------------------------------------------------------------------------------------
# Names


def questionnaire_url(instrument_id: str) -> str:
    """The canonical URL of an instrument's Questionnaire."""
    return f"{CANONICAL_BASE}/Questionnaire/{_fhir_id(instrument_id)}"


def answer_system(instrument_id: str, response_set_id: str) -> str:
    """The code system of a response set whose options have no LOINC answer codes; the
    code of an option is its value as text (``"0"``, ``"2.5"``)."""
    return f"{CANONICAL_BASE}/CodeSystem/{instrument_id}-{response_set_id}"


def _fhir_id(instrument_id: str) -> str:
    """FHIR ids allow ``[A-Za-z0-9-.]``; our slugs may hold ``_``."""
    return instrument_id.replace("_", "-")


def _computable_name(short_name: str) -> str:
    """A FHIR computable name (``[A-Z][A-Za-z0-9_]*``): ``PHQ-9`` → ``PHQ9``."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", short_name) if w]
    name = "".join(w[0].upper() + w[1:] for w in words)
    return name if name[:1].isalpha() else "Q" + name


def _number(x: float) -> int | float:
    """A whole number as an int, so JSON reads ``3`` and not ``3.0``."""
    return int(x) if float(x).is_integer() else float(x)


def _code(value: float) -> str:
    return str(_number(value))


def _fmt(x: float) -> str:
    return f"{x:g}"


# --------------------------------------------------------------------------------------
# Export


def _coding(d: Definition, rs: ResponseSet, index: int, pack: TextPack | None) -> dict[str, Any]:
    option = rs.options[index]
    coding: dict[str, Any] = {
        "extension": [{"url": ORDINAL_VALUE_URL, "valueDecimal": _number(option.value)}]
    }
    if option.loinc:
        coding |= {"system": LOINC_SYSTEM, "code": option.loinc}
    else:
        coding |= {"system": answer_system(d.id, rs.id), "code": _code(option.value)}
    if pack is not None:
        coding["display"] = pack.response_sets[rs.id][index]
    return coding


def _item_text(item: Item, pack: TextPack | None) -> str:
    if pack is None:
        return _TEXT_NOT_SHIPPED.format(number=item.number)
    return pack.items[item.id]


def _questionnaire_item(d: Definition, item: Item, pack: TextPack | None) -> dict[str, Any]:
    rs = d.response_set(item.response_set)
    out: dict[str, Any] = {"linkId": item.id}
    if item.loinc:
        out["code"] = [{"system": LOINC_SYSTEM, "code": item.loinc}]
    out |= {
        "prefix": f"{item.number}.",
        "text": _item_text(item, pack),
        "type": "choice",
        "required": item.id not in d.missing.optional_items,
        "answerOption": [{"valueCoding": _coding(d, rs, i, pack)} for i in range(len(rs.options))],
    }
    return out


def _description(d: Definition, pack: TextPack | None) -> str:
    if pack is not None:
        return pack.instructions
    return (
        f"The item text of the {d.short_name} is not shipped with commonfactors (licence: "
        f"{d.licence.name}; rights holder: {d.licence.holder}). Load a licensed text pack "
        "to show it; this Questionnaire names each item by its number only."
    )


def questionnaire(instrument: str | Instrument, *, language: str = "en") -> dict[str, Any]:
    """An instrument as a FHIR R4 Questionnaire (a JSON-ready dict).

    Item text and option labels come from the ``language`` text pack (or the first one
    loaded); without a text pack each item reads "Item N (text not shipped — load a
    licensed text pack)". The resource is validated with the ``fhir.resources`` R4B model
    before it is returned.
    """
    inst = get_instrument(instrument)
    d = inst.definition
    pack = inst.text(language)
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": _fhir_id(d.id),
    }
    if pack is not None:
        resource["language"] = pack.language
    resource |= {
        "url": questionnaire_url(d.id),
        "version": d.version,
        "name": _computable_name(d.short_name),
        "title": pack.title if pack is not None else d.name,
        "status": "active",
        "subjectType": ["Patient"],
        "description": _description(d, pack),
        "purpose": (
            f"{d.name} ({d.short_name}): {d.assesses}; recall period: {d.recall_period}. "
            f"Citation: {d.citation}"
        ),
        "copyright": d.licence.copyright
        or (pack.notice if pack is not None else None)
        or f"{d.licence.holder}. {d.licence.name}",
    }
    if d.loinc.panel:
        resource["code"] = [{"system": LOINC_SYSTEM, "code": d.loinc.panel, "display": d.name}]
    resource["item"] = [_questionnaire_item(d, item, pack) for item in d.items]
    _raise_if_invalid(resource, "Questionnaire", f"{d.id}: the exported Questionnaire")
    return resource


def questionnaire_response(
    instrument: str | Instrument,
    answers: Mapping[str, float | None],
    *,
    language: str = "en",
    status: str = "completed",
) -> dict[str, Any]:
    """One administration (item id → value; ``None`` or absent = not answered) as a FHIR
    R4 QuestionnaireResponse to :func:`questionnaire`'s resource. Answers are codings as
    offered in the Questionnaire. Raises :class:`ScoringError` naming every unknown item
    and every value that is not an option."""
    inst = get_instrument(instrument)
    d = inst.definition
    pack = inst.text(language)
    problems = [f"unknown item {k!r}" for k in answers if k not in d.item_ids]
    items: list[dict[str, Any]] = []
    for item in d.items:
        value = answers.get(item.id)
        if value is None:
            continue
        rs = d.response_set(item.response_set)
        index = next((i for i, o in enumerate(rs.options) if o.value == value), None)
        if index is None:
            problems.append(f"{_where(item)}: {value!r} is not an option ({_values(rs)})")
            continue
        entry: dict[str, Any] = {"linkId": item.id}
        if pack is not None:
            entry["text"] = pack.items[item.id]
        entry["answer"] = [{"valueCoding": _coding(d, rs, index, pack)}]
        items.append(entry)
    if problems:
        raise ScoringError(f"{d.id}: the answers cannot be written as a response", problems)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{questionnaire_url(d.id)}|{d.version}",
        "status": status,
    }
    if items:
        resource["item"] = items
    _raise_if_invalid(resource, "QuestionnaireResponse", f"{d.id}: the response")
    return resource


# --------------------------------------------------------------------------------------
# Validation


def validate_resource(resource: Mapping[str, Any]) -> None:
    """Raise :class:`ScoringError` listing every problem if ``resource`` is not a valid
    FHIR R4B resource of its ``resourceType`` (Questionnaire, QuestionnaireResponse, ...).

    Checked: the ``fhir.resources`` model of the type (structure, cardinality, data
    types), the codes of required bindings (e.g. ``status``), and the JSON rules the
    models let pass (no ``null`` values, no empty objects or arrays).
    """
    _raise_if_invalid(resource, None, "not a valid FHIR R4 resource")


def _raise_if_invalid(resource: object, expected: str | None, message: str) -> None:
    problems = _resource_problems(resource, expected)
    if problems:
        raise ScoringError(message, problems)


def _model_class(kind: str) -> type[BaseModel] | None:
    try:
        model_class = get_fhir_model_class(kind)
    except ValueError:
        return None
    return model_class if issubclass(model_class, Resource) else None


def _resource_problems(resource: object, expected: str | None) -> list[str]:
    if not isinstance(resource, Mapping):
        return [f"a resource is a JSON object, not {type(resource).__name__}"]
    kind = resource.get("resourceType")
    if not isinstance(kind, str):
        return ["resourceType is missing"]
    if expected is not None and kind != expected:
        return [f"resourceType is {kind!r}; expected {expected!r}"]
    model_class = _model_class(kind)
    if model_class is None:
        return [f"resourceType {kind!r} is not a FHIR R4B resource type"]
    problems = _json_problems(resource, "")
    try:
        model_class.model_validate(dict(resource))
    except ValidationError as exc:
        problems += [_pydantic_problem(e) for e in exc.errors()]
    # the models check required elements only where nothing else failed: check them all
    problems += _declared_problems(model_class, resource, "")
    return list(dict.fromkeys(problems))


def _path(parent: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{parent}[{name}]"
    return f"{parent}.{name}" if parent else name


def _pydantic_problem(error: Any) -> str:
    where = ""
    for part in error["loc"]:
        where = _path(where, "resourceType" if part == "resource_type" else part)
    message = " ".join(str(error["msg"]).split())
    return f"{where or '(resource)'}: {message}"


def _json_problems(value: object, where: str) -> list[str]:
    """FHIR JSON allows no null values (outside primitive arrays), empty objects or arrays."""
    problems: list[str] = []
    if isinstance(value, Mapping):
        if not value:
            problems.append(f"{where or '(resource)'}: an empty object is not allowed")
        for key, child in value.items():
            here = _path(where, str(key))
            if child is None:
                problems.append(f"{here}: null is not allowed")
            else:
                problems += _json_problems(child, here)
    elif isinstance(value, list):
        if not value:
            problems.append(f"{where}: an empty array is not allowed")
        for i, child in enumerate(value):
            if child is not None:  # null pads a primitive array beside its _extensions
                problems += _json_problems(child, _path(where, i))
    return problems


def _element_class(annotation: object) -> type[BaseModel] | None:
    """The model class of a complex element, from a field's ``fhirtypes`` annotation."""
    get_class = getattr(annotation, "get_model_klass", None)
    if callable(get_class):
        found = get_class()
        return found if isinstance(found, type) and issubclass(found, BaseModel) else None
    for arg in get_args(annotation):
        found = _element_class(arg)
        if found is not None:
            return found
    return None


def _declared_problems(
    model_class: type[BaseModel], raw: Mapping[str, Any], where: str
) -> list[str]:
    """Required elements and codes of required bindings, as the models declare them
    (the models list binding codes but leave them unchecked; ``+`` marks a list cut short)."""
    problems: list[str] = []
    for name, field in model_class.model_fields.items():
        alias = field.alias or name
        here = _path(where, alias)
        value = raw.get(alias)
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("element_required") and value is None and raw.get(f"_{alias}") is None:
            problems.append(f"{here}: Value for the field {alias!r} is required.")
        allowed = extra.get("enum_values")
        codes = [str(a) for a in allowed] if isinstance(allowed, list) else []
        if codes and "+" not in codes and isinstance(value, str) and value not in codes:
            problems.append(f"{here}: {value!r} is not one of {' | '.join(codes)}")
        element_class = _element_class(field.annotation)
        if element_class is None or value is None:
            continue
        many = isinstance(value, list)
        for i, child in enumerate(value if many else [value]):
            if isinstance(child, Mapping):
                kind = child.get("resourceType")  # a contained resource names its own type
                child_class = (
                    _model_class(kind) if isinstance(kind, str) else None
                ) or element_class
                problems += _declared_problems(child_class, child, _path(here, i) if many else here)
    return problems


# --------------------------------------------------------------------------------------
# Which instrument a response answers


def _from_reference(reference: str) -> Instrument | None:
    """The instrument a ``questionnaire`` reference names: our canonical URL, an instrument
    id, a LOINC panel code or ``http://loinc.org/q/<code>`` (a ``|version`` is ignored)."""
    key = reference.partition("|")[0].strip().rstrip("/")
    for prefix in (f"{CANONICAL_BASE}/Questionnaire/", "Questionnaire/", _LOINC_Q):
        key = key.removeprefix(prefix)
    registry = default_registry()
    for candidate in (key, key.replace("-", "_")):
        if candidate in registry:
            return registry.get(candidate)
    return next((i for i in registry if i.definition.loinc.panel == key), None)


def _version_named(reference: object, d: Definition) -> str | None:
    """The version in ``<our canonical URL>|<version>``, if the reference is to ``d``."""
    if not isinstance(reference, str):
        return None
    canonical, _, version = reference.partition("|")
    return version or None if canonical == questionnaire_url(d.id) else None


def _instrument_for(response: Mapping[str, Any], instrument: str | Instrument | None) -> Instrument:
    reference = response.get("questionnaire")
    named = _from_reference(reference) if isinstance(reference, str) else None
    if instrument is not None:
        inst = get_instrument(instrument)
        if named is not None and named.id != inst.id:
            raise ScoringError(f"the response answers {reference!r} ({named.id}), not {inst.id}")
        return inst
    if named is not None:
        return named
    if reference is None:
        raise ScoringError(
            "the response does not say which questionnaire it answers (no 'questionnaire');"
            " name the instrument"
        )
    raise UnknownInstrumentError(
        f"unknown questionnaire {reference!r}; expected {CANONICAL_BASE}/Questionnaire/<id>, "
        f"an instrument id, or a LOINC panel code; known instruments: "
        + ", ".join(default_registry().ids())
    )


# --------------------------------------------------------------------------------------
# Reading the answers


@dataclass
class _Reading:
    answers: dict[str, object]
    flagged: set[str]  # items with a problem found here (the scorer's message is dropped)
    problems: list[str]
    stated_total: float | None = None
    total_seen: bool = False


def _flatten(items: object) -> Iterator[Mapping[str, Any]]:
    """Every item, groups and items nested under answers included, in document order."""
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        yield item
        yield from _flatten(item.get("item"))
        for answer in _answers(item):
            yield from _flatten(answer.get("item"))


def _answers(item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    answers = item.get("answer")
    return [a for a in answers if isinstance(a, Mapping)] if isinstance(answers, list) else []


def _where(item: Item) -> str:
    return f"item {item.number} ({item.id})"


def _values(rs: ResponseSet) -> str:
    return "expected one of " + ", ".join(_fmt(v) for v in rs.values)


def _match(d: Definition, link_id: str) -> Item | str | None:
    """The item a linkId names (by id or LOINC code), ``"total"``, or None."""
    keys = {link_id, link_id.removeprefix("/"), link_id.rsplit("/", 1)[-1]}
    for item in d.items:
        if item.id in keys or (item.loinc is not None and item.loinc in keys):
            return item
    if "total" in keys or (d.loinc.total is not None and d.loinc.total in keys):
        return "total"
    return None


def _ordinal(coding: Mapping[str, Any]) -> float | None:
    for ext in coding.get("extension") or ():
        if isinstance(ext, Mapping) and ext.get("url") in _ORDINAL_URLS:
            for key in ("valueDecimal", "valueInteger"):
                value = ext.get(key)
                if _is_number(value):
                    return float(value)
    return None


def _is_number(value: object) -> TypeGuard[int | float | Decimal]:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _expected_codes(d: Definition, rs: ResponseSet) -> str:
    if any(o.loinc for o in rs.options):
        codes = ", ".join(f"{o.loinc} ({_fmt(o.value)})" for o in rs.options if o.loinc)
        return f"expected LOINC {codes}"
    codes = ", ".join(_code(v) for v in rs.values)
    return f"expected {answer_system(d.id, rs.id)} codes {codes}"


def _by_code(d: Definition, rs: ResponseSet, system: object, code: object) -> ResponseOption | str:
    """The option a coding's code names; ``"unknown"`` if its system is one we know and the
    code is not an option; ``"foreign"`` if the system is not ours to judge."""
    has_loinc = any(o.loinc for o in rs.options)
    if has_loinc and system in (None, LOINC_SYSTEM):
        found = next((o for o in rs.options if o.loinc == code), None)
        if found is not None or system == LOINC_SYSTEM:
            return found or "unknown"
    if system == answer_system(d.id, rs.id):
        return next((o for o in rs.options if _code(o.value) == code), None) or "unknown"
    return "foreign"


def _coding_value(
    d: Definition, item: Item, coding: Mapping[str, Any]
) -> tuple[float | None, str | None]:
    rs = d.response_set(item.response_set)
    system, code = coding.get("system"), coding.get("code")
    ordinal = _ordinal(coding)
    shown = f"{system}|{code}" if system else repr(code)
    option = _by_code(d, rs, system, code)
    if isinstance(option, ResponseOption):
        if ordinal is not None and ordinal != option.value:
            return None, (
                f"{_where(item)}: coding {shown} means {_fmt(option.value)}, but its "
                f"ordinalValue says {_fmt(ordinal)}"
            )
        return option.value, None
    if option == "foreign" and ordinal is not None:
        return ordinal, None
    return None, (
        f"{_where(item)}: coding {shown} is not one of its answers "
        f"({_expected_codes(d, rs)}, or a coding with an ordinalValue extension)"
    )


def _answer_value(
    d: Definition, item: Item, answer: Mapping[str, Any]
) -> tuple[float | None, str | None]:
    kinds = [k for k in answer if k.startswith("value")]
    if not kinds:
        return None, f"{_where(item)}: the answer has no value"
    kind = kinds[0]
    raw = answer[kind]
    if kind == "valueCoding" and isinstance(raw, Mapping):
        return _coding_value(d, item, raw)
    if kind == "valueInteger" and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw), None
    if kind == "valueDecimal" and _is_number(raw):
        return float(raw), None
    if kind in ("valueInteger", "valueDecimal"):
        return None, f"{_where(item)}: {kind} must be a JSON number, not {raw!r}"
    return None, (
        f"{_where(item)}: {kind} is not accepted; answer with valueCoding, valueInteger "
        "or valueDecimal"
    )


def _read_total(reading: _Reading, link_id: str, answers: Sequence[Mapping[str, Any]]) -> None:
    if reading.total_seen:
        reading.problems.append(f"linkId {link_id!r}: the total is stated more than once")
        return
    reading.total_seen = True
    if len(answers) > 1:
        reading.problems.append(f"linkId {link_id!r}: the total has {len(answers)} answers")
        return
    values = [v for k, v in answers[0].items() if k.startswith("value")] if answers else []
    if values and _is_number(values[0]):
        reading.stated_total = float(values[0])
    elif values and isinstance(values[0], Mapping) and _is_number(values[0].get("value")):
        reading.stated_total = float(values[0]["value"])  # valueQuantity
    elif values:
        reading.problems.append(f"linkId {link_id!r}: the stated total is not a number")


def _read_item(
    d: Definition, reading: _Reading, item: Item, answers: Sequence[Mapping[str, Any]]
) -> None:
    value: object = None
    problem: str | None = None
    if item.id in reading.answers:
        problem = f"{_where(item)} is answered more than once"
    elif len(answers) > 1:
        problem = f"{_where(item)} has {len(answers)} answers; one is expected"
    elif answers:
        value, problem = _answer_value(d, item, answers[0])
    if problem is not None:
        reading.problems.append(problem)
        reading.flagged.add(item.id)
        value = _UNMATCHED
    reading.answers[item.id] = value


def _read(d: Definition, response: Mapping[str, Any]) -> _Reading:
    reading = _Reading(answers={}, flagged=set(), problems=[])
    for entry in _flatten(response.get("item")):
        link_id = str(entry.get("linkId"))
        answers = _answers(entry)
        target = _match(d, link_id)
        if target == "total":
            _read_total(reading, link_id, answers)
        elif isinstance(target, Item):
            _read_item(d, reading, target, answers)
        elif answers:  # unknown groups and display items without answers are ignored
            reading.problems.append(
                f"linkId {link_id!r} is not an item of {d.short_name} (items are named by "
                f"id, e.g. {d.items[0].id!r}, or LOINC code)"
            )
    return reading


# --------------------------------------------------------------------------------------
# Scoring


def _status_notes(response: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    status = response.get("status")
    if status == "entered-in-error":
        return ["the response is marked entered-in-error: it must not be scored"], []
    if status in ("in-progress", "stopped"):
        return [], [f"the response is {status}: answers may be incomplete"]
    return [], []


def _score_all(inst: Instrument, reading: _Reading, problems: list[str]) -> Score:
    d = inst.definition
    answers = {i: reading.answers.get(i) for i in d.item_ids}
    own = [f"{_where(d.item(i))}:" for i in reading.flagged]
    try:
        result = score(inst, answers)
    except ScoringError as exc:
        theirs = [p for p in exc.problems if not p.startswith(tuple(own))]
        raise ScoringError(
            f"{d.id}: the response cannot be scored",
            problems + theirs,
            risk_items=exc.risk_items,
        ) from None
    if problems:  # a risk answer is never silent, even in a response that fails
        raise ScoringError(
            f"{d.id}: the response cannot be scored", problems, risk_items=result.risk_items
        )
    return result


def score_response(
    response: Mapping[str, Any], *, instrument: str | Instrument | None = None
) -> ResponseScore:
    """Score a FHIR R4 QuestionnaireResponse (a JSON dict) by the published rules.

    The instrument is ``instrument`` or the one the response's ``questionnaire`` names
    (our canonical URL, an instrument id, a LOINC panel code or ``http://loinc.org/q/<code>``).
    Items, nested groups included, are matched by linkId: the item id or its LOINC code
    (optionally with a leading ``/`` or as a ``/panel/item`` path). Answers are a
    ``valueCoding`` (LOINC answer code, our own code system, or an ``ordinalValue``
    extension), a ``valueInteger`` or a ``valueDecimal``. An item named by the total's LOINC
    code or ``total`` is a *stated* total: the score is computed from the items, and a
    disagreement is a warning. Raises :class:`ScoringError` naming every problem at once.
    """
    _raise_if_invalid(
        response, "QuestionnaireResponse", "not a valid FHIR R4 QuestionnaireResponse"
    )
    inst = _instrument_for(response, instrument)
    d = inst.definition
    version = _version_named(response.get("questionnaire"), d)
    reading = _read(d, response)
    refused, warnings = _status_notes(response)
    result = _score_all(inst, reading, refused + reading.problems)
    if version is not None and version != d.version:
        warnings.append(
            f"the response answers version {version} of the questionnaire; scored by "
            f"definition version {d.version}"
        )
    stated = reading.stated_total
    if stated is not None and not math.isclose(stated, result.total, abs_tol=1e-9):
        warnings.append(
            f"stated total {_fmt(stated)} disagrees with the item answers "
            f"(total {_fmt(result.total)}); scored from the items"
        )
    return ResponseScore(d.id, result, stated, tuple(warnings))

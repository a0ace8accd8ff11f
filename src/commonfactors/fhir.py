"""FHIR R4: instruments as Questionnaires, QuestionnaireResponses scored by the published rules.

- :func:`questionnaire` exports an instrument as a FHIR R4 ``Questionnaire`` (a JSON-ready
  dict, validated before it is returned): LOINC codes where the definition has them, item
  text where a text pack is loaded, and each option's keyed weight (its value after reverse
  keying: what it adds to the score) as the standard ``ordinalValue`` extension. An item is
  ``required`` only where the missing-item rule lets no item be left out.
- :func:`score_response` scores a ``QuestionnaireResponse`` exactly as :func:`score` scores
  a list of answers: items are matched by item id or LOINC code, answers by LOINC answer
  code, our own code system, an ``ordinalValue`` extension (a keyed weight), or a plain
  number (the option's value). Every problem is listed at once; a stated total is checked,
  never trusted; a valid risk answer is reported even when the response is refused.
- :func:`questionnaire_response` writes one administration as a ``QuestionnaireResponse``.
- :func:`validate_resource` checks a resource against the ``fhir.resources`` R4B models.

FHIR R4B (4.3.0) left Questionnaire and QuestionnaireResponse as they were in R4 (4.0.1), so
the R4B models of ``fhir.resources`` validate R4 resources of these two types.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
#: The R4 core extension that carries an answer's numeric weight (for adding up a score): we
#: write the option's keyed weight, reverse keying applied, and read it back the same way.
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


def _keyed(d: Definition, item: Item, value: float) -> float:
    """The keyed weight of an answer: what it adds to the score (low + high − value on a
    reverse-keyed item, as the scorer keys it). Keying is its own inverse, so this also
    turns a keyed weight back into the answer."""
    if not item.reverse:
        return value
    values = d.allowed_values(item.id)
    return min(values) + max(values) - value


# --------------------------------------------------------------------------------------
# Export


def _coding(d: Definition, item: Item, index: int, pack: TextPack | None) -> dict[str, Any]:
    """The coding of an item's option ``index``: the code is the option's value (or its LOINC
    answer code), the ordinal value its keyed weight."""
    rs = d.response_set(item.response_set)
    option = rs.options[index]
    weight = _number(_keyed(d, item, option.value))
    coding: dict[str, Any] = {"extension": [{"url": ORDINAL_VALUE_URL, "valueDecimal": weight}]}
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


def _required(d: Definition, item: Item) -> bool:
    """Required only where no item may be missing: an item the missing-item rule lets a
    person leave blank (``max_missing`` > 0, or an optional item) is not forced."""
    return d.missing.max_missing == 0 and item.id not in d.missing.optional_items


def _questionnaire_item(d: Definition, item: Item, pack: TextPack | None) -> dict[str, Any]:
    rs = d.response_set(item.response_set)
    out: dict[str, Any] = {"linkId": item.id}
    if item.loinc:
        out["code"] = [{"system": LOINC_SYSTEM, "code": item.loinc}]
    out |= {
        "prefix": f"{item.number}.",
        "text": _item_text(item, pack),
        "type": "choice",
        "required": _required(d, item),
        "answerOption": [
            {"valueCoding": _coding(d, item, i, pack)} for i in range(len(rs.options))
        ],
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


def response_items(
    inst: Instrument,
    answers: Mapping[str, float | None],
    *,
    language: str = "en",
    where: str,
) -> list[dict[str, Any]]:
    """The ``item`` list of a QuestionnaireResponse: each answered item as the coding offered
    in the Questionnaire (with its text when the language's pack ships it). Raises
    :class:`ScoringError` (``where``: what the answers belong to) naming every unknown item
    and every value that is not an option."""
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
        entry["answer"] = [{"valueCoding": _coding(d, item, index, pack)}]
        items.append(entry)
    if problems:
        raise ScoringError(f"{where}: the answers cannot be written as a response", problems)
    return items


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
    items = response_items(inst, answers, language=language, where=d.id)
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
            # which one is meant is unclear: a risk answer to either is reported
            raise ScoringError(
                f"the response answers {reference!r} ({named.id}), not {inst.id}",
                risk_items=[*_risk_read(named, response), *_risk_read(inst, response)],
            )
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
    answers: dict[str, float | None]  # item id → its one answer (None: not answered)
    flagged: set[str]  # items with a problem found here: the scorer does not see their answer
    given: dict[str, list[float]]  # item id → the value of every answer read, for the risk rule
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
    extensions = coding.get("extension")
    for ext in extensions if isinstance(extensions, list) else ():
        url = ext.get("url") if isinstance(ext, Mapping) else None
        if isinstance(url, str) and url in _ORDINAL_URLS:
            for key in ("valueDecimal", "valueInteger"):
                value = ext.get(key)
                if _is_number(value):
                    return float(value)
    return None


def _is_number(value: object) -> TypeGuard[int | float | Decimal]:
    if isinstance(value, Decimal):
        return not value.is_snan()  # a signalling NaN cannot even be turned into a float
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value_keys(answer: Mapping[Any, Any]) -> list[str]:
    return [k for k in answer if isinstance(k, str) and k.startswith("value")]


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
        weight = _keyed(d, item, option.value)
        if ordinal is not None and ordinal != weight:
            keyed = f" (keyed weight {_fmt(weight)})" if item.reverse else ""
            return None, (
                f"{_where(item)}: coding {shown} means {_fmt(option.value)}{keyed}, but its "
                f"ordinalValue says {_fmt(ordinal)}"
            )
        return option.value, None
    if option == "foreign" and ordinal is not None:
        # the ordinal value is a keyed weight: back to the answer it stands for
        value = next((v for v in rs.values if _keyed(d, item, v) == ordinal), None)
        if value is None:
            weights = ", ".join(_fmt(_keyed(d, item, v)) for v in rs.values)
            return None, (
                f"{_where(item)}: coding {shown} has ordinalValue {_fmt(ordinal)}, which is "
                f"not the ordinal value of any of its answers (expected one of {weights})"
            )
        return value, None
    return None, (
        f"{_where(item)}: coding {shown} is not one of its answers "
        f"({_expected_codes(d, rs)}, or a coding with an ordinalValue extension)"
    )


def _answer_value(
    d: Definition, item: Item, answer: Mapping[str, Any]
) -> tuple[float | None, str | None]:
    kinds = _value_keys(answer)
    if not kinds:
        return None, f"{_where(item)}: the answer has no value"
    kind = kinds[0]
    raw = answer[kind]
    if kind == "valueCoding":
        if isinstance(raw, Mapping):
            return _coding_value(d, item, raw)
        return None, f"{_where(item)}: valueCoding must be a JSON object, not {raw!r}"
    if kind == "valueInteger":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return float(raw), None
        return None, (
            f"{_where(item)}: valueInteger must be an integer (a JSON number without a "
            f"decimal point), not {raw!r}"
        )
    if kind == "valueDecimal":
        if _is_number(raw):
            return float(raw), None
        return None, f"{_where(item)}: valueDecimal must be a JSON number, not {raw!r}"
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
    values = [answers[0][k] for k in _value_keys(answers[0])] if answers else []
    if values and _is_number(values[0]):
        reading.stated_total = float(values[0])
    elif values and isinstance(values[0], Mapping) and _is_number(values[0].get("value")):
        reading.stated_total = float(values[0]["value"])  # valueQuantity
    elif values:
        reading.problems.append(f"linkId {link_id!r}: the stated total is not a number")


def _read_item(
    d: Definition, reading: _Reading, item: Item, answers: Sequence[Mapping[str, Any]]
) -> None:
    """Read every answer an entry gives for ``item``: each valid one is kept for the risk
    rule, even where the item has a problem (answered twice, several answers)."""
    if not answers:  # an entry without an answer answers nothing
        reading.answers.setdefault(item.id, None)
        return
    problems: list[str] = []
    if item.id in reading.given:
        problems.append(f"{_where(item)} is answered more than once")
    elif len(answers) > 1:
        problems.append(f"{_where(item)} has {len(answers)} answers; one is expected")
    values = reading.given.setdefault(item.id, [])
    for answer in answers:
        value, problem = _answer_value(d, item, answer)
        if problem is not None:
            problems.append(problem)
        elif value is not None:
            values.append(value)
    if problems:
        reading.problems += problems
        reading.flagged.add(item.id)
    else:
        reading.answers[item.id] = values[0]


def _read(d: Definition, response: Mapping[str, Any]) -> _Reading:
    reading = _Reading(answers={}, flagged=set(), given={}, problems=[])
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


def _risk_answers(d: Definition, reading: _Reading) -> list[str]:
    """The risk items with a valid answer at or above the risk rule's threshold, among
    *every* answer read (an item answered twice, or with several answers, included)."""
    found = []
    for rule in d.risk:
        allowed = d.allowed_values(rule.item)
        values = reading.given.get(rule.item, ())
        if any(v in allowed and v >= rule.at_least for v in values):
            found.append(rule.item)
    return found


def _risk_union(d: Definition, *found: Iterable[str]) -> tuple[str, ...]:
    """Risk items found by any reading, once each, in the order of the definition's rules."""
    union = {item_id for items in found for item_id in items}
    ordered = [r.item for r in d.risk if r.item in union]
    return tuple(dict.fromkeys([*ordered, *sorted(union.difference(ordered))]))


def _stand_in(d: Definition, item_id: str) -> float:
    """A valid answer handed to the scorer for an item with a problem found here: the scorer
    then neither counts the item as missing nor reports it a second time. Nothing computed
    from it is returned: a response with a problem is refused."""
    return min(d.allowed_values(item_id))


def _score_all(inst: Instrument, reading: _Reading, problems: list[str]) -> Score:
    d = inst.definition
    flagged = reading.flagged
    answers = {i: _stand_in(d, i) if i in flagged else reading.answers.get(i) for i in d.item_ids}
    ours = _risk_answers(d, reading)  # a risk answer is never silent, even when refused
    try:
        result = score(inst, answers)
    except ScoringError as exc:
        theirs = [i for i in exc.risk_items if i not in flagged]  # not from a stand-in
        raise ScoringError(
            f"{d.id}: the response cannot be scored",
            problems + list(exc.problems),
            risk_items=_risk_union(d, ours, theirs),
        ) from None
    if problems or flagged:  # every flagged item has a problem; stand-ins are never scored
        theirs = [i for i in result.risk_items if i not in flagged]
        raise ScoringError(
            f"{d.id}: the response cannot be scored",
            problems,
            risk_items=_risk_union(d, ours, theirs),
        )
    return result


def _risk_read(inst: Instrument, response: Mapping[str, Any]) -> tuple[str, ...]:
    """The risk answers of a response read as answers to ``inst``, whatever else is wrong."""
    d = inst.definition
    return _risk_union(d, _risk_answers(d, _read(d, response)))


def _risk_despite(response: object, instrument: str | Instrument | None) -> tuple[str, ...]:
    """The risk answers of a response that is not valid FHIR, read as far as it can be read
    (nothing when it is not an object, or does not say which instrument it answers)."""
    if not isinstance(response, Mapping):
        return ()
    try:
        inst = _instrument_for(response, instrument)
    except ScoringError as exc:  # two instruments named: the risk answers to either
        return exc.risk_items
    return _risk_read(inst, response)


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
    disagreement is a warning. Raises :class:`ScoringError` naming every problem at once;
    its ``risk_items`` names every risk item with a valid answer that meets the definition's
    risk rule (every answer given counts, even where the item itself has a problem), also
    when the response is not valid FHIR, as long as the instrument is known.
    """
    invalid = _resource_problems(response, "QuestionnaireResponse")
    if invalid:
        raise ScoringError(
            "not a valid FHIR R4 QuestionnaireResponse",
            invalid,
            risk_items=_risk_despite(response, instrument),
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

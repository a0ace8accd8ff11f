"""Checking one completed homework form: every problem named at once, a clean entry back.

:func:`validate` reads what a client gave (text as typed, numbers as text or numbers, rows as
a list of mappings), and either returns a clean entry — text stripped, numbers as ``int``,
dates and times in ISO form, blank optional values as ``None``, blank rows dropped — or
raises :class:`HomeworkError` naming every problem: which field, which row (numbered as the
client saw them), and what was expected. Nothing is half-checked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time
from typing import Any

from commonfactors.errors import CommonFactorsError
from commonfactors.homework.forms import get_form
from commonfactors.homework.schema import (
    ChoiceField,
    DateField,
    IntegerField,
    RowsField,
    Simple,
    TextField,
    TimeField,
)

__all__ = ["HomeworkError", "validate"]

_INTEGER = re.compile(r"^[+-]?\d+$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(:00)?$")


class HomeworkError(CommonFactorsError, ValueError):
    """A completed homework form that cannot be kept as given.

    ``problems`` lists every problem in words; ``by_field`` maps where each one is
    (``"situation"``, ``"feelings"``, ``"feelings.2.intensity"`` — rows counted from 1 as
    the client saw them) to its problems, so a form can show them beside the fields.
    """

    def __init__(self, message: str, by_field: Mapping[str, list[str]]) -> None:
        self.by_field: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in by_field.items()}
        super().__init__(message, [p for v in by_field.values() for p in v])


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check(field: Simple, value: object) -> tuple[object, str | None]:
    """The clean value, or None and what was wrong (``value`` is not blank)."""
    if isinstance(field, TextField):
        if not isinstance(value, str):
            return None, "expected text"
        text = value.strip().replace("\r\n", "\n")
        if len(text) > field.max_length:
            return None, f"{len(text):,} characters; at most {field.max_length:,} fit here"
        return text, None
    if isinstance(field, IntegerField):
        expected = f"expected a whole number from {field.min} to {field.max}"
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and _INTEGER.match(value.strip()):
            number = int(value.strip())
        if number is None:
            return None, f"{_shown(value)} is not a whole number; {expected}"
        if not field.min <= number <= field.max:
            return None, f"{number} is outside {field.min}–{field.max}; {expected}"
        return number, None
    if isinstance(field, ChoiceField):
        values = [o.value for o in field.options]
        if not isinstance(value, str) or value.strip() not in values:
            labels = ", ".join(o.label for o in field.options)
            return None, f"{_shown(value)} is not one of the choices ({labels})"
        return value.strip(), None
    if isinstance(field, DateField):
        if isinstance(value, date):
            return value.isoformat(), None
        try:
            return date.fromisoformat(str(value).strip()).isoformat(), None
        except ValueError:
            return None, f"{_shown(value)} is not a date; expected a date such as 2026-03-31"
    if isinstance(field, TimeField):
        if isinstance(value, time):
            return value.strftime("%H:%M"), None
        match = _TIME.match(str(value).strip())
        if match is None:
            return None, f"{_shown(value)} is not a time of day; expected hours and minutes"
        return f"{int(match.group(1)):02d}:{match.group(2)}", None
    raise TypeError(field)  # pragma: no cover - the schema allows no other kind


def _shown(value: object) -> str:
    return repr(value) if not isinstance(value, str) else f"“{value.strip()[:40]}”"


def _value(
    field: Simple, value: object, where: str, name: str, by_field: dict[str, list[str]]
) -> object:
    if _blank(value):
        if field.required:
            by_field.setdefault(where, []).append(f"{name}: please fill this in")
        return None
    clean, problem = _check(field, value)
    if problem is not None:
        by_field.setdefault(where, []).append(f"{name}: {problem}")
    return clean


def _rows(
    field: RowsField, value: object, by_field: dict[str, list[str]]
) -> list[dict[str, object]]:
    if _blank(value) or value == []:
        given: list[object] = []
    elif isinstance(value, list | tuple):
        given = list(value)
    else:
        by_field.setdefault(field.id, []).append(f"{field.label}: expected a list of rows")
        return []
    columns = {c.id: c for c in field.fields}
    clean_rows: list[dict[str, object]] = []
    for n, row in enumerate(given, start=1):
        name = f"{field.row_label} {n}"
        if not isinstance(row, Mapping):
            by_field.setdefault(f"{field.id}.{n}", []).append(f"{name}: expected a row of fields")
            continue
        unknown = sorted(str(k) for k in row if k not in columns)
        for key in unknown:
            by_field.setdefault(f"{field.id}.{n}", []).append(f"{name}: unknown column “{key}”")
        if all(_blank(row.get(c)) for c in columns):
            continue  # an empty row of the form: not a row
        clean_rows.append(
            {
                c.id: _value(
                    c, row.get(c.id), f"{field.id}.{n}.{c.id}", f"{name}, {c.label}", by_field
                )
                for c in field.fields
            }
        )
    count = len(clean_rows)
    unit = field.row_label.lower()
    if count < field.min_rows:
        by_field.setdefault(field.id, []).append(
            f"{field.label}: at least {field.min_rows} {unit}{'s' if field.min_rows > 1 else ''} "
            f"needed, {count} filled in"
        )
    if count > field.max_rows:
        by_field.setdefault(field.id, []).append(
            f"{field.label}: at most {field.max_rows} {unit}s fit, {count} filled in"
        )
    return clean_rows


def validate(form_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``entry`` (field id → value; a group of rows → a list of column → value) against
    the form ``form_id``. Returns the clean entry with every field of the form; raises
    :class:`HomeworkError` naming every problem, or ``UnknownFormError``."""
    form = get_form(form_id)
    by_field: dict[str, list[str]] = {}
    if not isinstance(entry, Mapping):
        raise HomeworkError(
            f"{form.title}: cannot be kept", {"": ["the entry must map each field to a value"]}
        )
    known = {f.id for f in form.fields}
    for key in sorted(str(k) for k in entry if k not in known):
        by_field.setdefault("", []).append(f"unknown field “{key}”")
    clean: dict[str, Any] = {}
    for field in form.fields:
        if isinstance(field, RowsField):
            clean[field.id] = _rows(field, entry.get(field.id), by_field)
        else:
            clean[field.id] = _value(field, entry.get(field.id), field.id, field.label, by_field)
    if by_field:
        raise HomeworkError(f"{form.title}: please check what you entered", by_field)
    return clean

"""How a homework form is shown and read back: form fields for the client's page, the posted
form turned into an entry for the library, and a completed entry laid out for reading.

Presentation only: what is valid is decided by the library (``commonfactors.homework``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from commonfactors.homework.schema import (
    AnyField,
    ChoiceField,
    DateField,
    FormDefinition,
    IntegerField,
    RowsField,
    Simple,
    TextField,
)

#: The most rows read back from one posted group (the library refuses beyond max_rows).
POSTED_ROWS_CAP = 100


@dataclass(frozen=True)
class Widget:
    """One input of the client's form."""

    html_id: str
    name: str
    kind: str
    label: str
    help: str
    required: bool
    value: str
    errors: tuple[str, ...]
    multiline: bool = False
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    scale: str = ""
    options: tuple[tuple[str, str, bool], ...] = ()

    @property
    def described_by(self) -> str:
        ids = []
        if self.help or self.scale:
            ids.append(f"{self.html_id}-help")
        if self.errors:
            ids.append(f"{self.html_id}-error")
        return " ".join(ids)


@dataclass(frozen=True)
class Row:
    number: int
    legend: str
    widgets: tuple[Widget, ...]


@dataclass(frozen=True)
class RowGroup:
    """A group of repeating rows."""

    html_id: str
    field_id: str
    kind: str
    label: str
    help: str
    required: bool
    errors: tuple[str, ...]
    rows: tuple[Row, ...]
    can_add: bool
    row_label: str


def _html_id(path: str) -> str:
    return "f-" + path.replace(".", "-")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _scale(field: Simple) -> str:
    """What the numbers mean (the label names the range)."""
    if isinstance(field, IntegerField):
        if field.low_label and field.high_label:
            return f"{field.min} = {field.low_label}, {field.max} = {field.high_label}"
        return f"A whole number from {field.min} to {field.max}"
    return ""


def _widget(
    field: Simple, path: str, value: Any, by_field: Mapping[str, tuple[str, ...]], *, in_row: bool
) -> Widget:
    text = _text(value)
    options: tuple[tuple[str, str, bool], ...] = ()
    if isinstance(field, ChoiceField):
        options = tuple((o.value, o.label, o.value == text) for o in field.options)
    return Widget(
        html_id=_html_id(path),
        name=_html_id(path),
        kind=field.kind,
        label=field.label,
        help="" if in_row else (field.help or ""),
        required=field.required,
        value=text,
        errors=tuple(by_field.get(path, ())),
        multiline=isinstance(field, TextField) and field.multiline,
        max_length=field.max_length if isinstance(field, TextField) else None,
        minimum=field.min if isinstance(field, IntegerField) else None,
        maximum=field.max if isinstance(field, IntegerField) else None,
        scale=_scale(field),
        options=options,
    )


def form_fields(
    form: FormDefinition,
    values: Mapping[str, Any] | None = None,
    by_field: Mapping[str, tuple[str, ...]] | None = None,
    *,
    add_row: str = "",
) -> list[Widget | RowGroup]:
    """The inputs of ``form`` filled with ``values`` (as posted), with the library's problems
    beside each; ``add_row`` names a group that gets one more empty row."""
    values = values or {}
    by_field = by_field or {}
    out: list[Widget | RowGroup] = []
    for field in form.fields:
        if not isinstance(field, RowsField):
            out.append(_widget(field, field.id, values.get(field.id), by_field, in_row=False))
            continue
        given = list(values.get(field.id) or [])
        count = max(field.shown_rows, len(given)) + (1 if add_row == field.id else 0)
        count = min(count, max(field.max_rows, len(given)))
        rows = []
        for n in range(1, count + 1):
            row_values = given[n - 1] if n <= len(given) else {}
            rows.append(
                Row(
                    number=n,
                    legend=f"{field.row_label} {n}",
                    widgets=tuple(
                        _widget(
                            c, f"{field.id}.{n}.{c.id}", row_values.get(c.id), by_field, in_row=True
                        )
                        for c in field.fields
                    ),
                )
            )
        out.append(
            RowGroup(
                html_id=_html_id(field.id),
                field_id=field.id,
                kind="rows",
                label=field.label,
                help=field.help or "",
                required=field.required,
                errors=tuple(by_field.get(field.id, ()))
                + tuple(
                    p for n in range(1, count + 1) for p in by_field.get(f"{field.id}.{n}", ())
                ),
                rows=tuple(rows),
                can_add=count < field.max_rows,
                row_label=field.row_label,
            )
        )
    return out


def entry_from_post(form: FormDefinition, post: Mapping[str, Any]) -> dict[str, Any]:
    """The posted form as an entry for the library: every field as text, groups as lists of
    rows (how many rows were shown is posted with the form)."""
    entry: dict[str, Any] = {}
    for field in form.fields:
        if not isinstance(field, RowsField):
            entry[field.id] = str(post.get(_html_id(field.id), ""))
            continue
        try:
            shown = int(str(post.get(f"rows-{field.id}", "0")))
        except ValueError:
            shown = 0
        shown = max(0, min(shown, POSTED_ROWS_CAP))
        entry[field.id] = [
            {c.id: str(post.get(_html_id(f"{field.id}.{n}.{c.id}"), "")) for c in field.fields}
            for n in range(1, shown + 1)
        ]
    return entry


def problem_links(by_field: Mapping[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    """Each problem with the id of the input it is about (for links in the summary)."""
    links = []
    for path, problems in by_field.items():
        parts = path.split(".")
        anchor = _html_id(path) if len(parts) != 2 else _html_id(parts[0])
        links.extend((anchor if path else "", p) for p in problems)
    return links


# ------------------------------------------------------------------ reading an entry


@dataclass(frozen=True)
class ReadableValue:
    label: str
    value: str
    kind: str = "value"


@dataclass(frozen=True)
class ReadableRows:
    label: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    kind: str = "rows"


def _shown(field: Simple, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(field, ChoiceField):
        return field.option_label(str(value))
    if isinstance(field, DateField):
        try:
            day = date.fromisoformat(str(value))
            return f"{day:%a} {day.day} {day:%b %Y}"
        except ValueError:
            return str(value)
    return str(value)


def readable(form: FormDefinition, data: Mapping[str, Any]) -> list[ReadableValue | ReadableRows]:
    """A completed entry laid out for reading: labels with values, groups as tables."""
    out: list[ReadableValue | ReadableRows] = []
    field: AnyField
    for field in form.fields:
        value = data.get(field.id)
        if isinstance(field, RowsField):
            out.append(
                ReadableRows(
                    label=field.label,
                    columns=tuple(c.label for c in field.fields),
                    rows=tuple(
                        tuple(_shown(c, row.get(c.id)) for c in field.fields)
                        for row in (value or [])
                    ),
                )
            )
        else:
            out.append(ReadableValue(field.label, _shown(field, value)))
    return out

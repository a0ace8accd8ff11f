"""The schema of a homework form definition, declared once and checked at load.

A homework form is data: a title, what the technique is for, instructions for the client (in
our own words), the source of the technique, and typed fields. A field is text (with a
maximum length), a whole number in a range, a choice, a date, a time of day, or a group of
repeating rows (with a minimum and maximum number of rows) whose columns are fields of the
other kinds.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "AnyField",
    "ChoiceField",
    "ChoiceOption",
    "DateField",
    "FormDefinition",
    "IntegerField",
    "RowsField",
    "Simple",
    "Source",
    "TextField",
    "TimeField",
]

Slug = Field(pattern=r"^[a-z][a-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Base(_Strict):
    id: str = Slug
    label: str = Field(min_length=1)
    help: str | None = Field(default=None, description="A hint shown under the label.")
    required: bool = False


class TextField(_Base):
    kind: Literal["text"]
    max_length: int = Field(ge=1, le=50_000)
    multiline: bool = False


class IntegerField(_Base):
    kind: Literal["integer"]
    min: int
    max: int
    low_label: str | None = Field(default=None, description="What the lowest number means.")
    high_label: str | None = Field(default=None, description="What the highest number means.")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min >= self.max:
            raise ValueError(f"field {self.id}: min must be below max")
        return self


class ChoiceOption(_Strict):
    value: str = Slug
    label: str = Field(min_length=1)


class ChoiceField(_Base):
    kind: Literal["choice"]
    options: tuple[ChoiceOption, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        values = [o.value for o in self.options]
        if len(set(values)) != len(values):
            raise ValueError(f"field {self.id}: option values repeat")
        return self

    def option_label(self, value: str) -> str:
        return next((o.label for o in self.options if o.value == value), value)


class DateField(_Base):
    kind: Literal["date"]


class TimeField(_Base):
    kind: Literal["time"]


#: A field that holds one value (a column of a row, or a field of its own).
Simple = TextField | IntegerField | ChoiceField | DateField | TimeField
SimpleField = Annotated[Simple, Field(discriminator="kind")]


class RowsField(_Base):
    """Repeating rows, e.g. one row per feeling or per activity. A row whose every column
    is blank is not a row (a form shows a few empty rows to fill in)."""

    kind: Literal["rows"]
    row_label: str = Field(min_length=1, description="What one row is, e.g. 'Feeling'.")
    min_rows: int = Field(ge=0)
    max_rows: int = Field(ge=1, le=100)
    shown_rows: int = Field(ge=1, description="How many rows a blank form shows.")
    fields: tuple[SimpleField, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        if self.min_rows > self.max_rows:
            problems.append("min_rows must not exceed max_rows")
        if not max(self.min_rows, 1) <= self.shown_rows <= self.max_rows:
            problems.append("shown_rows must lie between min_rows (at least 1) and max_rows")
        ids = [f.id for f in self.fields]
        if len(set(ids)) != len(ids):
            problems.append("column ids repeat")
        if self.required and self.min_rows == 0:
            problems.append("a required group of rows needs min_rows of at least 1")
        if problems:
            raise ValueError(f"field {self.id}: " + "; ".join(problems))
        return self


#: Any field of a form.
AnyField = Simple | RowsField
FormField = Annotated[AnyField, Field(discriminator="kind")]


class Source(_Strict):
    """Where the technique comes from. The form's wording is ours; the citation names the
    technique's origin (or says that none exists)."""

    citation: str = Field(min_length=1)
    note: str | None = None


class FormDefinition(_Strict):
    """One homework form, as data."""

    id: str = Slug
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    order: int = Field(ge=0, description="Position in the homework library.")
    title: str = Field(min_length=1)
    technique: str = Field(min_length=1, description="The technique it serves.")
    approach: str = Field(min_length=1, description="The therapeutic approach it belongs to.")
    summary: str = Field(min_length=1, description="For the therapist: what it is for.")
    instructions: str = Field(min_length=1, description="For the client: how to fill it in.")
    sources: tuple[Source, ...] = Field(min_length=1)
    licence: str = Field(min_length=1)
    fields: tuple[FormField, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_fields(self) -> Self:
        ids = [f.id for f in self.fields]
        if len(set(ids)) != len(ids):
            raise ValueError("field ids repeat")
        return self

    def field(self, field_id: str) -> AnyField:
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

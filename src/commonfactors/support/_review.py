"""The support review as data: its domains, questions and answer types (``data/review.yaml``),
and the checking of a therapist's answers.

The review follows the areas of two published clinical support tools (OQ's Assessment for
Signal Clients and the Trier Treatment Navigator's five clinical fields), in our own words;
the definition file says what was taken from each (``modelled_on``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from commonfactors.instruments.registry import Registry, default_registry
from commonfactors.support._common import DATA, Strict, SupportError, read_yaml

__all__ = [
    "Answer",
    "AnswerType",
    "Domain",
    "ModelSource",
    "Option",
    "Question",
    "ReviewDefinition",
    "default_review",
    "read_review",
    "validate_answers",
]

AnswerType = Literal["scale", "choice", "yes_no", "text"]
#: One stored answer: a scale step, an option id, or free text.
Answer = int | str

Slug = Field(pattern=r"^[a-z][a-z0-9_]*$")


class Option(Strict):
    id: str = Slug
    label: str


#: The options of every ``yes_no`` question.
YES_NO = (
    Option(id="yes", label="Yes"),
    Option(id="no", label="No"),
    Option(id="unsure", label="Not sure"),
)


class Question(Strict):
    """One question of the review, asked of the therapist."""

    id: str = Slug
    text: str
    type: AnswerType
    labels: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    max_length: int = Field(default=2000, ge=1, le=20000)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        if self.type == "scale" and len(self.labels) < 2:
            problems.append(f"{self.id}: a scale needs a label for each of at least 2 steps")
        if self.type != "scale" and self.labels:
            problems.append(f"{self.id}: only a scale has labels")
        if self.type == "choice":
            ids = [o.id for o in self.options]
            if len(ids) < 2 or len(set(ids)) != len(ids):
                problems.append(f"{self.id}: a choice needs at least 2 options with unique ids")
        elif self.options:
            problems.append(f"{self.id}: only a choice has options")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def choices(self) -> tuple[Option, ...]:
        """The options of a choice, or yes / no / unsure; empty for a scale and free text."""
        return YES_NO if self.type == "yes_no" else self.options

    @property
    def form_choices(self) -> tuple[tuple[str, str], ...]:
        """(value as posted, label) of every possible answer: the scale steps ("0", "1" …)
        or the options; empty for free text."""
        if self.type == "scale":
            return tuple((str(i), label) for i, label in enumerate(self.labels))
        return tuple((o.id, o.label) for o in self.choices)

    @property
    def highest(self) -> int:
        """The highest step of a scale."""
        return len(self.labels) - 1

    def label_of(self, value: Answer) -> str:
        """The words of an answer, as the therapist saw them."""
        if self.type == "scale" and isinstance(value, int) and 0 <= value <= self.highest:
            return self.labels[value]
        for option in self.choices:
            if option.id == value:
                return option.label
        return str(value)


class Domain(Strict):
    """One area of the review, with the measured factors (instruments) that inform it."""

    id: str = Slug
    title: str
    purpose: str
    modelled_on: str
    factors: tuple[str, ...] = ()
    questions: tuple[Question, ...] = Field(min_length=1)


class ModelSource(Strict):
    name: str
    source: str
    used: str


class ReviewDefinition(Strict):
    """The whole review: its domains in the order they are walked through."""

    id: str = Slug
    name: str
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    licence: str
    modelled_on: tuple[ModelSource, ...] = Field(min_length=1)
    client_questionnaire: tuple[str, ...] = ()
    domains: tuple[Domain, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        domains = [d.id for d in self.domains]
        questions = [q.id for q in self.questions]
        problems = [
            f"domain id {d!r} repeats" for d in sorted(set(domains)) if domains.count(d) > 1
        ]
        problems += [
            f"question id {q!r} repeats" for q in sorted(set(questions)) if questions.count(q) > 1
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for d in self.domains for q in d.questions)

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    @property
    def factor_instruments(self) -> tuple[str, ...]:
        """Every instrument that informs a domain, in the order of the domains."""
        return tuple(dict.fromkeys(i for d in self.domains for i in d.factors))

    def instrument_problems(self, registry: Registry) -> list[str]:
        """Instruments named in the definition that ``registry`` does not know."""
        named = [*self.factor_instruments, *self.client_questionnaire]
        return [f"unknown instrument {i!r}" for i in dict.fromkeys(named) if i not in registry]


def read_review(path: str | Path, registry: Registry | None = None) -> ReviewDefinition:
    """Read a review definition file, naming every problem at once."""
    review: ReviewDefinition = read_yaml(path, ReviewDefinition, "review definition")
    problems = review.instrument_problems(registry or default_registry())
    if problems:
        raise SupportError(f"review definition {path} is invalid", problems)
    return review


@cache
def default_review() -> ReviewDefinition:
    """The shipped review definition (``commonfactors/support/data/review.yaml``)."""
    return read_review(DATA / "review.yaml")


def _one(question: Question, value: object) -> tuple[Answer | None, str | None]:
    """(the stored answer, None) or (None, the problem)."""
    if question.type == "text":
        if not isinstance(value, str):
            return None, f"{question.id}: free text expected, not {value!r}"
        if len(value.strip()) > question.max_length:
            return None, (
                f"{question.id}: at most {question.max_length} characters, not {len(value.strip())}"
            )
        return value.strip(), None
    if question.type == "scale":
        step: object = value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            step = int(value.strip())
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= question.highest:
            return (
                None,
                f"{question.id}: a whole number from 0 to {question.highest}, not {value!r}",
            )
        return step, None
    ids = [o.id for o in question.choices]
    if value not in ids:
        return None, f"{question.id}: one of {', '.join(ids)}, not {value!r}"
    return str(value), None


def validate_answers(
    answers: Mapping[str, object], definition: ReviewDefinition | None = None
) -> dict[str, Answer]:
    """The answers to keep, in the order of the review: a scale answer as its step number
    (a string of digits is read as a number), a choice or yes/no as its option id, free
    text stripped. ``None`` and empty strings mean "not answered" and are left out.

    Raises :class:`SupportError` naming every problem at once (unknown questions, values
    out of range, unknown options, text too long)."""
    review = definition or default_review()
    known = {q.id: q for q in review.questions}
    problems = [f"{k}: not a question of the review" for k in answers if k not in known]
    kept: dict[str, Answer] = {}
    for q in review.questions:
        value = answers.get(q.id)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        answer, problem = _one(q, value)
        if problem is not None:
            problems.append(problem)
        elif answer is not None and answer != "":
            kept[q.id] = answer
    if problems:
        raise SupportError("the support review answers cannot be used", problems)
    return kept

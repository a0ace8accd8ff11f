"""Which instruments a client can be asked, and how their questions are shown.

Text comes from the library's text packs (only where the licence allows it); an instrument
without text cannot be administered here. Item values are shown and posted as the
definition states them; the library checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache

import commonfactors

#: Instruments that cannot be asked through a check-in link.
NOT_ADMINISTERED_HERE: frozenset[str] = frozenset()

#: The goal-rating instrument: each client sees their own goals (``goal_form``).
GOALS = "goals"


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Question:
    id: str
    number: int
    text: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Form:
    instrument: str
    title: str
    instructions: str
    notice: str
    questions: tuple[Question, ...]


def _value_text(value: float) -> str:
    return f"{value:g}"


@cache
def administrable(language: str = "en") -> tuple[str, ...]:
    """Ids of instruments with text in ``language`` (or any language) that can be asked."""
    return tuple(
        inst.id
        for inst in commonfactors.default_registry()
        if inst.text(language) is not None and inst.id not in NOT_ADMINISTERED_HERE
    )


def short_name(instrument: str) -> str:
    return commonfactors.default_registry().definition(instrument).short_name


@cache
def form(instrument: str, language: str = "en") -> Form:
    inst = commonfactors.default_registry().get(instrument)
    text = inst.text(language)
    if text is None:
        raise LookupError(f"{instrument} has no text to show")
    d = inst.definition
    questions = []
    for item in d.items:
        labels = text.response_sets[item.response_set]
        values = d.response_set(item.response_set).values
        questions.append(
            Question(
                id=item.id,
                number=item.number,
                text=text.items[item.id],
                options=tuple(
                    Option(_value_text(v), label) for v, label in zip(values, labels, strict=True)
                ),
            )
        )
    return Form(instrument, text.title, text.instructions, text.notice, tuple(questions))


def goal_form(generic: Form, goals: Mapping[int, str]) -> Form:
    """The ``goals`` form of one client: only the goals agreed with them (position → the
    client's own words), goal n asked as item ``goals_n``."""
    questions = tuple(
        replace(q, text=goals[q.number]) for q in generic.questions if q.number in goals
    )
    return replace(generic, questions=questions)


def only_asked(answers: Mapping[str, object], asked: Form) -> dict[str, object]:
    """``answers`` with every item not on the form ``asked`` left blank."""
    ids = {q.id for q in asked.questions}
    return {item: (value if item in ids else None) for item, value in answers.items()}


def parse_answers(instrument: str, data: Mapping[str, str]) -> dict[str, object]:
    """The posted answers of ``instrument``, item by item, as numbers where they read as
    numbers (anything else is passed on as given, for the library to refuse by name)."""
    answers: dict[str, object] = {}
    for item_id in commonfactors.default_registry().definition(instrument).item_ids:
        raw = (data.get(item_id) or "").strip()
        if raw == "":
            answers[item_id] = None
            continue
        try:
            answers[item_id] = int(raw)
        except ValueError:
            try:
                answers[item_id] = float(raw)
            except ValueError:
                answers[item_id] = raw
    return answers

"""The support review form: built from the library's review definition, read back from a
POST. The answers are checked by the library (``commonfactors.support.validate_answers``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from commonfactors import support
from commonfactors_web.reviews.services import OWN_LIMIT, Chosen, FactorRow


@dataclass
class ChoiceField:
    value: str
    label: str
    checked: bool


@dataclass
class QuestionField:
    question: support.Question
    value: str
    choices: list[ChoiceField] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.question.id

    @property
    def answer_label(self) -> str:
        """The answer in words (the chosen option's label, or the text itself)."""
        return next((c.label for c in self.choices if c.checked), self.value)


@dataclass
class DomainForm:
    domain: support.Domain
    factors: list[FactorRow]
    questions: list[QuestionField]


def domain_forms(answers: Mapping[str, object], factors: Sequence[FactorRow]) -> list[DomainForm]:
    """Each domain of the review with its measured factors and its questions, the current
    ``answers`` (as posted or stored) filled in."""
    out = []
    for domain in support.default_review().domains:
        questions = []
        for q in domain.questions:
            raw = answers.get(q.id)
            value = "" if raw is None else str(raw)
            questions.append(
                QuestionField(
                    q,
                    value,
                    [ChoiceField(v, label, v == value) for v, label in q.form_choices],
                )
            )
        out.append(DomainForm(domain, [f for f in factors if f.domain == domain.id], questions))
    return out


def posted_answers(data: QueryDict) -> dict[str, str]:
    """The review's answers in a POST (questions not posted are left out)."""
    return {
        q.id: data.get(q.id, "")
        for q in support.default_review().questions
        if data.get(q.id, "") != ""
    }


@dataclass
class PostedChoices:
    """The adaptations, notes and other alerts in a review's POST."""

    chosen: list[Chosen]
    drafts: dict[str, tuple[str, str]]
    own: list[Chosen]
    notes: str
    also: list[int]
    also_ok: bool = True


def posted_choices(data: QueryDict) -> PostedChoices:
    """Which suggestions are kept (``use``), each one's edited text and reason, the
    therapist's own adaptations, the notes and the other alerts to resolve."""
    rules = [r.id for r in support.default_rules().rules]
    drafts = {
        r: (data.get(f"text_{r}", ""), data.get(f"reason_{r}", ""))
        for r in rules
        if f"text_{r}" in data
    }
    used = [r for r in data.getlist("use") if r]
    chosen = [Chosen(r, *drafts.get(r, ("", ""))) for r in dict.fromkeys(used)]
    own = [
        Chosen("own", data.get(f"own_text_{n}", ""), data.get(f"own_reason_{n}", ""))
        for n in range(1, OWN_LIMIT + 1)
    ]
    also: list[int] = []
    ok = True
    for v in data.getlist("also"):
        try:
            also.append(int(v))
        except ValueError:
            ok = False
    return PostedChoices(chosen, drafts, own, data.get("notes", ""), also, ok)


@dataclass
class SuggestionField:
    """A suggestion as offered in the form: kept or not, its text and reason as edited."""

    suggestion: support.Suggestion
    use: bool
    text: str
    reason: str


def suggestion_fields(
    suggestions: Sequence[support.Suggestion], posted: PostedChoices | None
) -> list[SuggestionField]:
    """The suggestions with the therapist's edits kept across a re-display; a suggestion
    shown for the first time is offered with its own text and its reasons."""
    used = {c.rule for c in posted.chosen} if posted else set()
    out = []
    for s in suggestions:
        text, reason = (posted.drafts.get(s.rule) if posted else None) or (
            s.text,
            f"{s.title}: {'; '.join(s.because)}.",
        )
        out.append(SuggestionField(s, s.rule in used, text, reason))
    return out


def own_fields(posted: PostedChoices | None) -> list[dict[str, Any]]:
    """The therapist's own adaptation fields, refilled after a re-display."""
    own = posted.own if posted else []
    return [
        {
            "n": n,
            "text": own[n - 1].text if n <= len(own) else "",
            "reason": own[n - 1].reason if n <= len(own) else "",
        }
        for n in range(1, OWN_LIMIT + 1)
    ]

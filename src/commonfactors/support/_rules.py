"""Adaptation rules as data (``data/adaptations.yaml``) and :func:`suggest`, which applies
them to a support review's answers, the latest measured factors and the episode's signals.

Each rule names its trigger conditions, the adaptation it suggests (in our own words), why,
and the evidence with its effect size; :func:`suggest` returns the rules that fire, in the
order of the file, each saying in plain words which answers and measurements made it fire.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, model_validator

from commonfactors.homework.completion import CompletionSummary
from commonfactors.instruments.registry import Registry, default_registry
from commonfactors.instruments.schema import Definition
from commonfactors.support._common import (
    DATA,
    FactorReading,
    Strict,
    SupportError,
    fmt,
    read_yaml,
    when,
)
from commonfactors.support._review import (
    Answer,
    ReviewDefinition,
    default_review,
    validate_answers,
)

__all__ = [
    "SIGNAL_STATUSES",
    "AllOf",
    "Condition",
    "Evidence",
    "Rule",
    "RuleSet",
    "Suggestion",
    "default_rules",
    "read_rules",
    "suggest",
    "watched_factor",
]

#: The statuses a ``signal`` condition can test, as the library's signals name them.
SIGNAL_STATUSES: Mapping[str, tuple[str, ...]] = {
    "outcome": ("on_track", "yellow", "red"),
    "alliance": ("stable", "rupture", "unrepaired", "repaired"),
}
_STATUS_WORDS = {
    "on_track": "on track",
    "yellow": "yellow (less change than expected)",
    "red": "red (not on track)",
    "stable": "stable",
    "rupture": "a new rupture",
    "unrepaired": "a rupture not yet repaired",
    "repaired": "repaired",
}
_COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "at_most": (operator.le, "at or below"),
    "at_least": (operator.ge, "at or above"),
    "below": (operator.lt, "below"),
    "above": (operator.gt, "above"),
}


class Evidence(Strict):
    """One source behind a rule, with the figure to show. ``kind``: a correlational
    process-outcome finding, a predictor of outcome, an adaptation tested against a
    comparison, or a clinical support tool; ``checked``: against the cited source itself or
    only a secondary page."""

    citation: str
    finding: str
    kind: Literal["process", "predictor", "adaptation", "tool"]
    checked: Literal["source", "secondary"]


class Condition(Strict):
    """One test on an ``answer``, a ``factor``, a ``signal`` or the recorded ``homework``
    (``completion``: the share of the homework due that was done, 0–1, from
    :func:`commonfactors.homework.completion`): ``one_of`` a list of values, or one
    comparison (``at_most``, ``at_least``, ``below``, ``above``)."""

    answer: str | None = None
    factor: str | None = None
    homework: Literal["completion"] | None = None
    #: A homework condition holds only with at least this many assignments due.
    min_due: int = Field(default=1, ge=1)
    item: str | None = None
    subscale: str | None = None
    any_item: bool = False
    signal: Literal["outcome", "alliance"] | None = None
    one_of: tuple[str, ...] = ()
    at_most: float | None = None
    at_least: float | None = None
    below: float | None = None
    above: float | None = None
    basis: str = ""

    @model_validator(mode="after")
    def _shape(self) -> Self:
        problems = []
        targets = [
            t for t in (self.answer, self.factor, self.signal, self.homework) if t is not None
        ]
        if len(targets) != 1:
            problems.append("a condition names exactly one of answer, factor, signal or homework")
        tests = len(self.comparisons) + (1 if self.one_of else 0)
        if tests != 1:
            problems.append(
                "a condition has exactly one test: one_of, at_most, at_least, below or above"
            )
        if self.factor is None and (self.item or self.subscale or self.any_item):
            problems.append("item, subscale and any_item belong to a factor condition")
        if self.factor is None and self.homework is None and self.basis:
            problems.append("basis belongs to a factor or homework condition")
        if self.homework is None and self.min_due != 1:
            problems.append("min_due belongs to a homework condition")
        if self.homework is not None:
            if self.one_of:
                problems.append("homework completion: compare with a share (0-1), not one_of")
            if not self.basis.strip():
                problems.append("homework completion: say where the threshold comes from (basis)")
            problems += [
                f"homework completion: {name} {fmt(v)} is outside 0-1"
                for name, v in self.comparisons
                if not 0 <= v <= 1
            ]
        if self.factor is not None:
            if self.one_of:
                problems.append(f"factor {self.factor}: compare with a number, not one_of")
            if not self.basis.strip():
                problems.append(f"factor {self.factor}: say where the threshold comes from (basis)")
            if sum([self.item is not None, self.subscale is not None, self.any_item]) > 1:
                problems.append(f"factor {self.factor}: at most one of item, subscale, any_item")
        if self.signal is not None and not self.one_of:
            problems.append(f"signal {self.signal}: test it with one_of")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def comparisons(self) -> list[tuple[str, float]]:
        return [(name, float(v)) for name in _COMPARISONS if (v := getattr(self, name)) is not None]


class AllOf(Strict):
    """Holds when every one of its conditions holds."""

    all_of: tuple[Condition, ...] = Field(min_length=2)


class Rule(Strict):
    """One adaptation rule: it fires when any entry of ``when`` holds."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    domain: str
    title: str
    when: tuple[Condition | AllOf, ...] = Field(min_length=1)
    suggestion: str
    rationale: str
    evidence: tuple[Evidence, ...] = Field(min_length=1)
    watch: tuple[str, ...] = ()

    @property
    def conditions(self) -> tuple[Condition, ...]:
        out: list[Condition] = []
        for entry in self.when:
            out.extend(entry.all_of if isinstance(entry, AllOf) else (entry,))
        return tuple(out)


class RuleSet(Strict):
    """The rules file: its rules in the order they are suggested."""

    id: str
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    review: str
    licence: str
    rules: tuple[Rule, ...] = Field(min_length=1)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)

    def problems(self, review: ReviewDefinition, registry: Registry) -> list[str]:
        """Everything in the rules that does not fit ``review`` and ``registry``."""
        out: list[str] = []
        if self.review != review.id:
            out.append(f"the rules are for review {self.review!r}, not {review.id!r}")
        ids = [r.id for r in self.rules]
        out += [f"rule id {i!r} repeats" for i in sorted(set(ids)) if ids.count(i) > 1]
        domains = {d.id for d in review.domains}
        for rule in self.rules:
            where = f"rule {rule.id}"
            if rule.domain not in domains:
                out.append(f"{where}: unknown domain {rule.domain!r}")
            out += [
                f"{where}: unknown instrument {i!r} to watch"
                for i in rule.watch
                if i not in registry
            ]
            for c in rule.conditions:
                out += [f"{where}: {p}" for p in _condition_problems(c, review, registry)]
        return out


def _condition_problems(c: Condition, review: ReviewDefinition, registry: Registry) -> list[str]:
    if c.answer is not None:
        try:
            q = review.question(c.answer)
        except KeyError:
            return [f"unknown question {c.answer!r}"]
        if q.type == "text":
            return [f"{q.id}: free text cannot trigger a rule"]
        if q.type == "scale":
            if c.one_of:
                return [f"{q.id}: compare a scale with a number, not one_of"]
            return [
                f"{q.id}: {name} {fmt(v)} is outside the scale 0-{q.highest}"
                for name, v in c.comparisons
                if not 0 <= v <= q.highest
            ]
        if c.comparisons:
            return [f"{q.id}: test a {q.type.replace('_', '/')} answer with one_of"]
        ids = {o.id for o in q.choices}
        return [f"{q.id}: unknown option {v!r}" for v in c.one_of if v not in ids]
    if c.factor is not None:
        if c.factor not in registry:
            return [f"unknown instrument {c.factor!r}"]
        d = registry.definition(c.factor)
        if c.item is not None and c.item not in d.item_ids:
            return [f"{d.id}: unknown item {c.item!r}"]
        if c.subscale is not None and c.subscale not in {s.id for s in d.subscales}:
            return [f"{d.id}: unknown subscale {c.subscale!r}"]
        lo, hi = _range(d, c)
        return [
            f"{d.id}: {name} {fmt(v)} is outside the range {fmt(lo)}-{fmt(hi)}"
            for name, v in c.comparisons
            if not lo <= v <= hi
        ]
    if c.homework is not None:
        return []  # checked when the condition is made
    known = SIGNAL_STATUSES[c.signal or ""]
    return [f"signal {c.signal}: unknown status {v!r}" for v in c.one_of if v not in known]


def _range(d: Definition, c: Condition) -> tuple[float, float]:
    if c.item is not None or c.any_item:
        values = [v for i in ([c.item] if c.item else d.item_ids) for v in d.allowed_values(i)]
        return min(values), max(values)
    if c.subscale is not None:
        sub = d.subscale(c.subscale)
        lows = [min(d.allowed_values(i)) for i in sub.items]
        highs = [max(d.allowed_values(i)) for i in sub.items]
        if sub.kind == "mean":
            return sum(lows) / len(lows), sum(highs) / len(highs)
        return sum(lows), sum(highs)
    lo, hi = d.score_range
    return float(lo), float(hi)


def read_rules(
    path: str | Path,
    review: ReviewDefinition | None = None,
    registry: Registry | None = None,
) -> RuleSet:
    """Read a rules file and check it against the review definition and the instruments,
    naming every problem at once."""
    rules: RuleSet = read_yaml(path, RuleSet, "rules file")
    problems = rules.problems(review or default_review(), registry or default_registry())
    if problems:
        raise SupportError(f"rules file {path} is invalid", problems)
    return rules


@cache
def default_rules() -> RuleSet:
    """The shipped rules (``commonfactors/support/data/adaptations.yaml``)."""
    return read_rules(DATA / "adaptations.yaml")


@dataclass(frozen=True)
class Suggestion:
    """A rule that fired: the adaptation it suggests, why it fired (``because``, in plain
    words, one entry per condition that held), and its evidence."""

    rule: str
    domain: str
    title: str
    text: str
    rationale: str
    because: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    watch: tuple[str, ...]

    @property
    def citation(self) -> str:
        """Every source with its figure, in one line."""
        return " ".join(f"{e.finding} ({e.citation})" for e in self.evidence)

    def as_dict(self) -> dict[str, object]:
        """Plain values, to be stored with the review."""
        return {
            "rule": self.rule,
            "domain": self.domain,
            "title": self.title,
            "text": self.text,
            "rationale": self.rationale,
            "because": list(self.because),
            "evidence": [e.model_dump() for e in self.evidence],
            "watch": list(self.watch),
        }


class _Context:
    """What a rule is tested on."""

    def __init__(
        self,
        review: ReviewDefinition,
        answers: Mapping[str, Answer],
        factors: Mapping[str, FactorReading],
        signals: Mapping[str, str | None],
        registry: Registry,
        homework: CompletionSummary | None = None,
    ) -> None:
        self.review, self.answers, self.factors = review, answers, factors
        self.signals, self.registry, self.homework = signals, registry, homework

    def holds(self, c: Condition) -> str | None:
        """Why ``c`` holds, in plain words, or None when it does not."""
        if c.answer is not None:
            return self._answer(c)
        if c.factor is not None:
            return self._factor(c)
        if c.homework is not None:
            return self._homework(c)
        status = self.signals.get(c.signal or "")
        if status and status in c.one_of:
            return f"the {c.signal} signal is {_STATUS_WORDS.get(status, status)}"
        return None

    def _answer(self, c: Condition) -> str | None:
        value = self.answers.get(c.answer or "")
        if value is None:
            return None
        q = self.review.question(c.answer or "")
        if c.one_of:
            hit = value in c.one_of
        else:
            hit = isinstance(value, int) and all(
                _COMPARISONS[name][0](value, v) for name, v in c.comparisons
            )
        return f"you answered “{q.label_of(value)}” to “{q.text}”" if hit else None

    def _homework(self, c: Condition) -> str | None:
        done = self.homework
        if done is None or done.rate is None or done.due < c.min_due:
            return None
        name, test = c.comparisons[0]
        compare, words = _COMPARISONS[name]
        if not compare(done.rate, test):
            return None
        return (
            f"the homework record shows {done.completed} of {done.due} assignments due were done "
            f"({done.percent} %), {words} {fmt(100 * test)} % ({c.basis})"
        )

    def _factor(self, c: Condition) -> str | None:
        reading = self.factors.get(c.factor or "")
        if reading is None or reading.value is None:
            return None
        d = self.registry.definition(reading.instrument)
        name, test = c.comparisons[0]
        compare, words = _COMPARISONS[name]
        threshold = f"{words} {fmt(test)} ({c.basis})"
        at = when(reading)
        if c.any_item:
            low = [
                f"item {d.item(i).number} ({d.item(i).label}) was {fmt(v)}"
                for i in d.item_ids
                if (v := reading.items.get(i)) is not None and compare(float(v), test)
            ]
            if not low:
                return None
            return f"{d.short_name} {at}: {', '.join(low)}, {threshold}"
        if c.item is not None:
            value, what = (
                reading.items.get(c.item),
                (f"item {d.item(c.item).number} ({d.item(c.item).label})"),
            )
        elif c.subscale is not None:
            value, what = reading.subscales.get(c.subscale), d.subscale(c.subscale).name
        else:
            value, what = reading.value, "score"
        if value is None or not compare(float(value), test):
            return None
        return f"{d.short_name} {what} was {fmt(float(value))} {at}, {threshold}"


def _factor_map(
    factors: Mapping[str, FactorReading] | Iterable[FactorReading],
) -> dict[str, FactorReading]:
    if isinstance(factors, Mapping):
        return dict(factors)
    return {f.instrument: f for f in factors}


def suggest(
    answers: Mapping[str, object],
    factors: Mapping[str, FactorReading] | Iterable[FactorReading] = (),
    *,
    signals: Mapping[str, str | None] | None = None,
    review: ReviewDefinition | None = None,
    rules: RuleSet | None = None,
    registry: Registry | None = None,
    homework: CompletionSummary | None = None,
) -> list[Suggestion]:
    """The adaptations the rules suggest, in the order of the rules file.

    ``answers``: the support review's answers (checked with :func:`validate_answers`; a
    :class:`SupportError` names every problem). ``factors``: the latest reading of each
    measured instrument (by instrument id, or an iterable of readings); readings of
    instruments that were not measured are simply absent or have ``value`` None.
    ``signals``: the episode's current ``"outcome"`` and ``"alliance"`` status.
    ``homework``: the episode's homework completion (:func:`commonfactors.homework.completion`),
    for the rules that test the recorded homework."""
    review = review or default_review()
    rules = rules or default_rules()
    registry = registry or default_registry()
    context = _Context(
        review,
        validate_answers(answers, review),
        _factor_map(factors),
        dict(signals or {}),
        registry,
        homework,
    )
    out = []
    for rule in rules.rules:
        because: list[str] = []
        for entry in rule.when:
            if isinstance(entry, AllOf):
                reasons = [context.holds(c) for c in entry.all_of]
                if all(reasons):
                    because.append(" and ".join(r for r in reasons if r))
            elif (reason := context.holds(entry)) is not None:
                because.append(reason)
        if because:
            out.append(
                Suggestion(
                    rule=rule.id,
                    domain=rule.domain,
                    title=rule.title,
                    text=rule.suggestion,
                    rationale=rule.rationale,
                    because=tuple(_capital(b) for b in dict.fromkeys(because)),
                    evidence=rule.evidence,
                    watch=rule.watch,
                )
            )
    return out


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def watched_factor(
    rule_ids: Iterable[str],
    factors: Mapping[str, FactorReading] | Iterable[FactorReading] = (),
    rules: RuleSet | None = None,
) -> str | None:
    """The factor a review's closed loop follows: of the instruments the chosen rules
    ``watch`` (in the order the rules were chosen), the first with a measured reading
    before the review, else the first named; None when the rules watch nothing."""
    rules = rules or default_rules()
    measured = {i for i, f in _factor_map(factors).items() if f.value is not None}
    named = [i for r in rule_ids for i in rules.rule(r).watch]
    return next((i for i in named if i in measured), named[0] if named else None)

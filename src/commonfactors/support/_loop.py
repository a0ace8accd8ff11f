"""The closed loop: after a support review, did the factor that triggered it improve, and
did the outcome get back on track?

* **The factor** is compared from its last measurement before the review to its latest one
  after. An instrument with a reliable-change threshold is judged by
  :func:`commonfactors.change.reliable_change` (its published or derived threshold and
  direction). Practice questions have none; for them a change of at least a quarter of the
  score range (1 point on a 0-4 mean, 2.5 on a 0-10 mean) in the better direction counts as
  improved, and the same the other way as worse. That rule is this project's design choice,
  stated with every result, until such questions have published reliability.
* **The outcome** is the episode's signal status (on track / yellow / red, as
  :mod:`commonfactors.trajectories` judged it) at the review and at the latest judged
  session after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from commonfactors.change import reliable_change
from commonfactors.instruments.registry import Registry, default_registry
from commonfactors.instruments.schema import Definition
from commonfactors.support._common import FactorReading, SupportError, fmt, when

__all__ = ["PRACTICE_CHANGE_SHARE", "ClosedLoop", "closed_loop"]

#: For instruments without a reliable-change threshold: the share of the score range a
#: change must reach to count (design choice).
PRACTICE_CHANGE_SHARE = 0.25

FactorVerdict = Literal[
    "improved", "no clear change", "worse", "not measured before", "not measured since", "none"
]
OutcomeVerdict = Literal[
    "back on track",
    "still on track",
    "closer to track",
    "not yet on track",
    "further off track",
    "not judged since",
]
_RANK = {"on_track": 0, "yellow": 1, "red": 2}
_WORDS = {"on_track": "on track", "yellow": "yellow", "red": "red"}


@dataclass(frozen=True)
class ClosedLoop:
    """What happened after a review, with the rule used and the result in plain words
    (``summary``: one sentence about the factor, one about the outcome)."""

    factor: str | None
    factor_name: str
    factor_before: float | None
    factor_latest: float | None
    factor_change: float | None
    factor_verdict: FactorVerdict
    factor_rule: str
    outcome_before: str | None
    outcome_latest: str | None
    outcome_verdict: OutcomeVerdict
    measurements_after: int
    judgements_after: int
    summary: tuple[str, ...]

    @property
    def factor_improved(self) -> bool | None:
        """True/False once the factor was measured again; None before."""
        if self.factor_verdict in ("not measured before", "not measured since", "none"):
            return None
        return self.factor_verdict == "improved"

    @property
    def back_on_track(self) -> bool | None:
        """True/False once the outcome was judged again; None before."""
        if self.outcome_verdict == "not judged since":
            return None
        return self.outcome_verdict in ("back on track", "still on track")


def _value(x: float | FactorReading | None) -> float | None:
    return x.value if isinstance(x, FactorReading) else x


def _practice_rule(d: Definition) -> tuple[float, str]:
    lo, hi = d.score_range
    threshold = PRACTICE_CHANGE_SHARE * (hi - lo)
    return threshold, (
        f"{d.short_name} has no published reliable-change threshold; here a change of at least "
        f"{fmt(threshold)} point{'' if threshold == 1 else 's'} (a quarter of its "
        f"{fmt(lo)}-{fmt(hi)} range) counts as improved or worse (commonfactors design choice)"
    )


def _factor_verdict(d: Definition, before: float, latest: float) -> tuple[FactorVerdict, str]:
    if d.reliable_change is not None:
        rc = reliable_change(d, before, latest)
        rule = f"{rc.rule}. Source: {rc.source}"
        if rc.category == "improved":
            return "improved", rule
        return ("worse" if rc.category == "deteriorated" else "no clear change"), rule
    threshold, rule = _practice_rule(d)
    gain = latest - before if d.direction == "higher_is_better" else before - latest
    slack = 1e-9 * max(1.0, threshold)
    if gain >= threshold - slack:
        return "improved", rule
    if gain <= -threshold + slack:
        return "worse", rule
    return "no clear change", rule


def _problems(
    d: Definition | None,
    values: Sequence[float | None],
    statuses: Sequence[str | None],
) -> list[str]:
    out = []
    if d is not None:
        lo, hi = d.score_range
        out += [
            f"{d.id} score {fmt(v)} is outside its range {fmt(lo)}-{fmt(hi)}"
            for v in values
            if v is not None and not lo <= v <= hi
        ]
    out += [
        f"unknown outcome status {s!r} (on_track, yellow or red)"
        for s in statuses
        if s and s not in _RANK
    ]
    return out


def _outcome(before: str | None, judged: list[str]) -> OutcomeVerdict:
    if not judged:
        return "not judged since"
    latest = judged[-1]
    if latest == "on_track":
        return "back on track" if before in ("yellow", "red") else "still on track"
    if before in _RANK and _RANK[latest] < _RANK[before]:
        return "closer to track"
    if before in _RANK and _RANK[latest] > _RANK[before]:
        return "further off track"
    return "not yet on track"


_FACTOR_WORDS = {
    "improved": "improved",
    "worse": "got worse",
    "no clear change": "shows no clear change",
}


def _signed(x: float) -> str:
    return ("+" if x > 0 else "-" if x < 0 else "") + fmt(abs(x))


def _outcome_sentence(
    name: str, verdict: OutcomeVerdict, before: str | None, judged: list[str]
) -> str:
    was = f" (it was {_WORDS[before]} at the review)" if before in _WORDS else ""
    now = _WORDS[judged[-1]] if judged else ""
    return {
        "not judged since": f"{name} has not been judged since the review{was}.",
        "back on track": f"{name} is back on track{was}.",
        "still on track": f"{name} is on track{was}.",
        "closer to track": f"{name} is closer to track, now {now}{was}.",
        "not yet on track": f"{name} is not back on track yet, still {now}{was}.",
        "further off track": f"{name} is further off track, now {now}{was}.",
    }[verdict]


def closed_loop(
    factor: str | None,
    before: float | FactorReading | None,
    after: Sequence[float | FactorReading],
    outcome_before: str | None,
    outcome_after: Sequence[str | None],
    *,
    outcome_name: str = "The outcome",
    registry: Registry | None = None,
) -> ClosedLoop:
    """Judge the loop after a review.

    ``factor``: the instrument the review targeted (None: the review followed the outcome
    only); ``before``: its last measurement before the review; ``after``: its measurements
    after the review, oldest first. ``outcome_before``: the outcome status at the review
    (``on_track``, ``yellow``, ``red`` or None); ``outcome_after``: the statuses of the
    sessions judged after it, oldest first (None or "" for a session not judged).
    Raises :class:`SupportError` naming every problem (unknown instrument or status, scores
    out of range)."""
    registry = registry or default_registry()
    if factor is not None and factor not in registry:
        raise SupportError("the closed loop cannot be judged", [f"unknown instrument {factor!r}"])
    d = registry.definition(factor) if factor is not None else None
    values = [_value(a) for a in after]
    measured = [v for v in values if v is not None]
    judged = [s for s in outcome_after if s]
    problems = _problems(d, [_value(before), *measured], [outcome_before, *outcome_after])
    if problems:
        raise SupportError("the closed loop cannot be judged", problems)
    b = _value(before)
    latest = measured[-1] if measured else None
    verdict: FactorVerdict = "none"
    rule, sentence = "", ""
    if d is not None:
        name = d.short_name
        if b is None:
            verdict = "not measured before"
            sentence = f"{name} was not measured before the review, so its change cannot be judged."
        elif latest is None:
            verdict = "not measured since"
            sentence = f"{name} has not been measured since the review (it was {fmt(b)} before)."
        else:
            verdict, rule = _factor_verdict(d, b, latest)
            last = next((a for a in reversed(after) if _value(a) is not None), None)
            at = f" {when(last)}" if isinstance(last, FactorReading) and when(last) else ""
            sentence = (
                f"{name} {_FACTOR_WORDS[verdict]}: {fmt(b)} before the review, "
                f"{fmt(latest)}{at}; change {_signed(latest - b)}."
            )
    outcome = _outcome(outcome_before, judged)
    outcome_sentence = _outcome_sentence(outcome_name, outcome, outcome_before, judged)
    return ClosedLoop(
        factor=factor,
        factor_name=d.short_name if d is not None else "",
        factor_before=b,
        factor_latest=latest,
        factor_change=None if b is None or latest is None else latest - b,
        factor_verdict=verdict,
        factor_rule=rule,
        outcome_before=outcome_before or None,
        outcome_latest=judged[-1] if judged else None,
        outcome_verdict=outcome,
        measurements_after=len(measured),
        judgements_after=len(judged),
        summary=tuple(s for s in (sentence, outcome_sentence) if s),
    )

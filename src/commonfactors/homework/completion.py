"""How much of the homework that was set got done: a pure function over plain records.

Why it matters (figures from published meta-analyses, cited, not our claims): homework in
cognitive and behavioural therapies adds to outcome (Kazantzis, Whittington & Dattilio 2010,
*Clin Psychol Sci Pract* 17:144–156: d = 0.48 against the same therapy without homework), and
clients who do more of it do better (Mausbach, Moore, Roesch, Cardenas & Patterson 2010,
*Cogn Ther Res* 34:429–438: compliance–outcome r = .26; Kazantzis et al. 2016, *Behav Ther*
47:755–772: quantity g = 0.79 after treatment).

The rule (our design, stated so it can be audited):

* an assignment withdrawn by the therapist does not count;
* an assignment is **due** once it is completed or its due date has passed (an assignment
  without a due date is due :data:`DEFAULT_DUE_DAYS` days after it was set: one week, the
  usual gap between sessions), so homework set today does not lower the rate;
* the **rate** is completed ÷ due (None when nothing is due yet); **on time** means completed
  on or before the due date;
* the summary is *as of* ``today``: an assignment set later, or a completion later, does
  not count yet (so the rate at a past session is what was known then).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = [
    "COMPLETION_RULE",
    "DEFAULT_DUE_DAYS",
    "AssignmentRecord",
    "CompletionSummary",
    "completion",
]

#: Days after it was set that an assignment without a due date is due.
DEFAULT_DUE_DAYS = 7

COMPLETION_RULE = (
    "Completed assignments ÷ assignments due (due date passed, or completed early); "
    "withdrawn assignments do not count; without a due date an assignment is due 7 days "
    "after it was set. On time: completed on or before the due date."
)


@dataclass(frozen=True)
class AssignmentRecord:
    """One assignment as plain values: when it was set, when due, when completed."""

    assigned_on: date
    due_on: date | None = None
    completed_on: date | None = None
    withdrawn: bool = False

    @property
    def effective_due(self) -> date:
        return self.due_on or self.assigned_on + timedelta(days=DEFAULT_DUE_DAYS)


@dataclass(frozen=True)
class CompletionSummary:
    """Homework completion of one client (or any set of assignments)."""

    assigned: int
    due: int
    completed: int
    completed_on_time: int
    overdue: int
    open: int
    rate: float | None
    last_completion: date | None
    rule: str = COMPLETION_RULE

    @property
    def percent(self) -> int | None:
        """The rate as a whole percentage, for display."""
        return None if self.rate is None else round(100 * self.rate)


def completion(
    assignments: Iterable[AssignmentRecord], *, today: date, at_session: bool = False
) -> CompletionSummary:
    """Summarise ``assignments`` as of ``today`` (see the module docstring for the rule).

    ``at_session``: ``today`` is the day of a session, where the homework is reviewed, so
    homework due that day and not done counts as not done (instead of still open), and
    homework set that day (the session's new homework) does not count yet. This is the
    homework known *at* a session, as the dropout model reads it."""
    counted = [
        a
        for a in assignments
        if not a.withdrawn and (a.assigned_on < today if at_session else a.assigned_on <= today)
    ]
    done = [a for a in counted if a.completed_on is not None and a.completed_on <= today]
    overdue = [
        a
        for a in counted
        if (a.completed_on is None or a.completed_on > today)
        and (a.effective_due <= today if at_session else a.effective_due < today)
    ]
    due = len(done) + len(overdue)
    on_time = [a for a in done if a.completed_on is not None and a.completed_on <= a.effective_due]
    last = max((a.completed_on for a in done if a.completed_on is not None), default=None)
    return CompletionSummary(
        assigned=len(counted),
        due=due,
        completed=len(done),
        completed_on_time=len(on_time),
        overdue=len(overdue),
        open=len(counted) - due,
        rate=len(done) / due if due else None,
        last_completion=last,
    )

"""One error hierarchy for the library.

::

    CommonFactorsError
     ├── DefinitionError          an instrument definition or text pack is invalid
     ├── ScoringError             answers cannot be scored (lists every problem at once)
     │    └── UnknownInstrumentError
     ├── ChangeError              change cannot be computed from the data given
     ├── TrajectoryError          (commonfactors.trajectories) a model cannot be fitted or used
     │    └── ModelNotFittedError also scikit-learn's NotFittedError
     └── AnalysisError            (commonfactors.analysis) a registry cannot be analysed

Every error that carries problems lists *all* of them, so a person can fix their input
in one pass. Nothing is partly scored: when a ``ScoringError`` is raised, no score exists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "ChangeError",
    "CommonFactorsError",
    "DefinitionError",
    "ScoringError",
    "UnknownInstrumentError",
]


class CommonFactorsError(Exception):
    """Base class of every error the library raises on purpose."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems: tuple[str, ...] = tuple(problems) or (message,)
        if problems:
            listed = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{message}\n{listed}"
        super().__init__(message)


class DefinitionError(CommonFactorsError):
    """An instrument definition file or a text pack does not follow the schema."""


class ScoringError(CommonFactorsError, ValueError):
    """Answers that cannot be scored by the instrument's published rules.

    ``problems`` names every problem (which row, which item, what was expected). A risk
    answer is never silent, even in answers that are refused:

    - ``risk_rows`` maps each refused row (1-based) whose *valid* answers raised a risk to
      those risk items, and ``risk_items`` is their union;
    - ``risk_unanswered_rows`` maps refused rows to risk items left blank or unreadable
      (ask the question in person), and ``risk_unanswered`` is their union.
    """

    def __init__(
        self,
        message: str,
        problems: Sequence[str] = (),
        *,
        risk_items: Sequence[str] = (),
        risk_rows: Mapping[int, Sequence[str]] | None = None,
        risk_unanswered_rows: Mapping[int, Sequence[str]] | None = None,
    ) -> None:
        super().__init__(message, problems)
        self.risk_rows: dict[int, tuple[str, ...]] = {
            r: tuple(items) for r, items in (risk_rows or {}).items() if items
        }
        self.risk_unanswered_rows: dict[int, tuple[str, ...]] = {
            r: tuple(items) for r, items in (risk_unanswered_rows or {}).items() if items
        }
        self.risk_items: tuple[str, ...] = tuple(
            sorted({*risk_items, *(i for items in self.risk_rows.values() for i in items)})
        )
        self.risk_unanswered: tuple[str, ...] = tuple(
            sorted({i for items in self.risk_unanswered_rows.values() for i in items})
        )


class UnknownInstrumentError(ScoringError, LookupError):
    """No instrument with this id is known to the registry."""


class ChangeError(CommonFactorsError, ValueError):
    """Input that reliable or clinically significant change cannot be computed from.

    ``problems`` names every problem at once (missing columns, bad parameters, clients
    without both measurements, scores out of range ...); nothing is partly computed.
    """

"""One error hierarchy for the library.

::

    CommonFactorsError
     ├── DefinitionError          an instrument definition or text pack is invalid
     └── ScoringError             answers cannot be scored (lists every problem at once)
          └── UnknownInstrumentError

Every error that carries problems lists *all* of them, so a person can fix their input
in one pass. Nothing is partly scored: when a ``ScoringError`` is raised, no score exists.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
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

    ``problems`` names every problem (which row, which item, what was expected).
    ``risk_items`` lists the risk items whose *valid* answers raised a risk even though
    the administration as a whole could not be scored: a risk answer is never silent.
    """

    def __init__(
        self,
        message: str,
        problems: Sequence[str] = (),
        *,
        risk_items: Sequence[str] = (),
    ) -> None:
        super().__init__(message, problems)
        self.risk_items: tuple[str, ...] = tuple(risk_items)


class UnknownInstrumentError(ScoringError, LookupError):
    """No instrument with this id is known to the registry."""

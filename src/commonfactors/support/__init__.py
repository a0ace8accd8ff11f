"""The support review: a structured look at the common factors after a signal, the
adaptations it suggests, and the closed loop that shows whether they helped.

* :func:`default_review` — the review as data (``data/review.yaml``): its domains
  (safety and coping, the working relationship, motivation and readiness, goals and work
  between sessions, expectations, social support and life events, cultural factors,
  preferences, formulation / referral / medication), modelled on OQ's Assessment for Signal
  Clients and the Trier Treatment Navigator's clinical fields, in our own words;
  :func:`validate_answers` checks a therapist's answers, naming every problem at once.
* :func:`default_rules` and :func:`suggest` — the adaptation rules (``data/adaptations.yaml``):
  each with its trigger conditions on the answers, the latest measured factors
  (:class:`FactorReading`) and the episode's signals, a suggestion, its rationale and the
  evidence with effect sizes; :func:`suggest` returns the :class:`Suggestion` of every rule
  that fires, in a fixed order, each saying why it fired.
* :func:`closed_loop` — after the review: did the targeted factor improve (by the
  instrument's reliable-change threshold where it has one) and did the outcome get back on
  track? :func:`watched_factor` picks the factor to follow.

Pure Python: no web framework is imported. Sources: ``docs/support-reviews.md``.
"""

from commonfactors.support._common import FactorReading, SupportError
from commonfactors.support._loop import PRACTICE_CHANGE_SHARE, ClosedLoop, closed_loop
from commonfactors.support._review import (
    Answer,
    Domain,
    Option,
    Question,
    ReviewDefinition,
    default_review,
    read_review,
    validate_answers,
)
from commonfactors.support._rules import (
    SIGNAL_STATUSES,
    Condition,
    Evidence,
    Rule,
    RuleSet,
    Suggestion,
    default_rules,
    read_rules,
    suggest,
    watched_factor,
)

__all__ = [
    "PRACTICE_CHANGE_SHARE",
    "SIGNAL_STATUSES",
    "Answer",
    "ClosedLoop",
    "Condition",
    "Domain",
    "Evidence",
    "FactorReading",
    "Option",
    "Question",
    "ReviewDefinition",
    "Rule",
    "RuleSet",
    "Suggestion",
    "SupportError",
    "closed_loop",
    "default_review",
    "default_rules",
    "read_review",
    "read_rules",
    "suggest",
    "validate_answers",
    "watched_factor",
]

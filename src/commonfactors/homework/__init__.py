"""Homework between sessions: structured forms as data, checking a completed form, and how
much of the homework set was done.

* :func:`all_forms` / :func:`get_form` — the homework library (``data/*.yaml``): thought
  record, activity schedule, exposure ladder, mindfulness practice log, dream log and a free
  journaling prompt, each with its technique's source.
* :func:`validate` — a completed form checked, every problem named at once
  (:class:`HomeworkError`), or a clean entry.
* :func:`completion` — assigned, due, completed, completed on time, rate and last
  completion, from plain :class:`AssignmentRecord` values.
"""

from commonfactors.homework.completion import (
    COMPLETION_RULE,
    DEFAULT_DUE_DAYS,
    AssignmentRecord,
    CompletionSummary,
    completion,
)
from commonfactors.homework.forms import UnknownFormError, all_forms, get_form, read_form
from commonfactors.homework.journal import JOURNAL_MAX_CHARS, JournalError, check_journal_text
from commonfactors.homework.schema import FormDefinition
from commonfactors.homework.validation import HomeworkError, validate

__all__ = [
    "COMPLETION_RULE",
    "DEFAULT_DUE_DAYS",
    "JOURNAL_MAX_CHARS",
    "AssignmentRecord",
    "CompletionSummary",
    "FormDefinition",
    "HomeworkError",
    "JournalError",
    "UnknownFormError",
    "all_forms",
    "check_journal_text",
    "completion",
    "get_form",
    "read_form",
    "validate",
]

"""The client's journal: free text, private to the client unless they share an entry.

The only rule is a size limit, high enough for a long entry written over an evening and low
enough that one request stays small.
"""

from __future__ import annotations

from commonfactors.errors import CommonFactorsError

__all__ = ["JOURNAL_MAX_CHARS", "JournalError", "check_journal_text"]

#: The longest journal entry kept (characters).
JOURNAL_MAX_CHARS = 100_000


class JournalError(CommonFactorsError, ValueError):
    """A journal entry that cannot be kept as given."""


def check_journal_text(text: object) -> str:
    """The entry's text with line endings made plain; :class:`JournalError` if it is not
    text or longer than :data:`JOURNAL_MAX_CHARS`. Leading and trailing space is kept: the
    client may be in the middle of a sentence."""
    if not isinstance(text, str):
        raise JournalError("a journal entry is text")
    clean = text.replace("\r\n", "\n")
    if len(clean) > JOURNAL_MAX_CHARS:
        raise JournalError(
            f"this entry has {len(clean):,} characters; at most {JOURNAL_MAX_CHARS:,} fit in "
            "one entry. Please start a new entry for the rest."
        )
    return clean

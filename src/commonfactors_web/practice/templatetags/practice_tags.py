"""Display of the practice figures: rates as percentages, intervals, effect sizes."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if number != number else number  # NaN: nothing to show


@register.filter
def figure(row: dict[str, Any]) -> str:
    """A measure's value: a percentage for a rate, two decimals for an effect size."""
    value = _number(row.get("value"))
    if value is None:
        return "–"
    return f"{100 * value:.0f} %" if row.get("is_rate", True) else f"{value:.2f}"


@register.filter
def interval(row: dict[str, Any]) -> str:
    """The 95 % interval of a measure, in the same unit as :func:`figure`."""
    low, high = _number(row.get("ci_low")), _number(row.get("ci_high"))
    if low is None or high is None:
        return "too few to say"
    if row.get("is_rate", True):
        places = 1 if high - low < 0.02 else 0  # a narrow interval keeps a decimal
        return f"{100 * low:.{places}f} – {100 * high:.{places}f} %"
    return f"{low:.2f} – {high:.2f}"


@register.filter
def points(value: Any) -> str:
    """A number of points with one decimal."""
    number = _number(value)
    return "–" if number is None else f"{number:.1f}"

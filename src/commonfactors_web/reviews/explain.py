"""Why an alert fired, in plain words: the rule, the data and the source, read from what the
library stored with the alert and its signal when the session was judged. Nothing here
judges anything again."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from commonfactors_web.alerts.models import Alert, AlertKind, Signal
from commonfactors_web.checkins.instruments import short_name


def fmt_number(x: float) -> str:
    """A score as people write it: at most two decimals, no trailing zeros."""
    return f"{round(x, 2):g}"


@dataclass
class AlertWhy:
    """An alert with the reasons it fired (``reasons``), the data behind them (``data``),
    the rule applied and where the rule and the reference data come from (``sources``)."""

    alert: Alert
    reasons: list[str] = field(default_factory=list)
    data: list[str] = field(default_factory=list)
    rule: str = ""
    sources: list[str] = field(default_factory=list)


def _outcome_data(name: str, sig: Signal) -> list[str]:
    data = [f"{name} score {fmt_number(sig.score)} at session {sig.session_number}."]
    if sig.intake is not None and sig.session_number > 1:
        change = f"{sig.change:+g}" if sig.change is not None else "not computed"
        category = f" ({sig.change_category})" if sig.change_category else ""
        data.append(f"At intake {fmt_number(sig.intake)}; change since intake {change}{category}.")
    if sig.expected is not None:
        bands = []
        if sig.yellow_threshold is not None:
            bands.append(f"yellow threshold {sig.yellow_threshold:.1f}")
        if sig.red_threshold is not None:
            bands.append(f"red threshold {sig.red_threshold:.1f}")
        data.append(
            f"Expected at this session for clients who started there: {sig.expected:.1f}"
            + (f" ({', '.join(bands)})." if bands else ".")
        )
    return data


def explain(alert: Alert, sig: Signal | None) -> AlertWhy:
    """The plain-words account of ``alert`` (``sig``: the signal that raised it, if any)."""
    evidence = alert.evidence if isinstance(alert.evidence, dict) else {}
    name = short_name(alert.instrument) if alert.instrument else ""
    why = AlertWhy(alert, reasons=[str(r) for r in evidence.get("reasons") or []])
    if alert.kind == AlertKind.RISK:
        answers = evidence.get("answers") or {}
        why.data = [f"{name} {item} answered {value}." for item, value in answers.items()]
        if evidence.get("refused_answers"):
            why.data.append(
                "The answers as a whole were incomplete or invalid and were not stored, but "
                "the risk answer was recorded."
            )
        why.rule = "A risk item answered at or above its threshold (the instrument's definition)."
        return why
    if sig is not None and sig.kind == "outcome":
        why.data = _outcome_data(name, sig)
    elif sig is not None:
        why.data = [f"{name} score {fmt_number(sig.score)} at session {sig.session_number}."]
    elif "score" in evidence:
        why.data = [f"{name} score {fmt_number(float(evidence['score']))}."]
    why.rule = (sig.rule if sig is not None else "") or str(evidence.get("rule") or "")
    model = (sig.model_label if sig is not None else "") or str(evidence.get("model") or "")
    why.sources = [s for s in (sig.change_rule if sig is not None else "", model) if s]
    if model:
        why.sources[-1] = f"Reference model: {model}"
    return why


def explain_all(alerts: Iterable[Alert]) -> list[AlertWhy]:
    """:func:`explain` for many alerts, with their signals read in one query."""
    alerts = list(alerts)
    ids = [a.signal_id for a in alerts if a.signal_id is not None]
    signals = Signal.objects.in_bulk(ids) if ids else {}
    return [explain(a, signals.get(a.signal_id) if a.signal_id else None) for a in alerts]

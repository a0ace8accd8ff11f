"""The report's options: for whom it is, and whether a referrer's copy includes the
client's own words (shared journal entries and the cultural formulation)."""

from __future__ import annotations

from typing import Any

from django import forms

#: Who reads the report.
AUDIENCES = (
    ("client", "The client (plain words, everything in the plan)"),
    ("referrer", "A referrer (clinical words; the client's own words only when ticked)"),
)


class ReportForm(forms.Form):
    audience = forms.ChoiceField(
        label="Who is the report for?", choices=AUDIENCES, widget=forms.RadioSelect
    )
    include_private = forms.BooleanField(
        label="Include the client's shared journal entries and the cultural formulation "
        "(only for a referrer; the client's copy always has them)",
        required=False,
    )


class PeriodForm(forms.Form):
    since = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Episodes that ended on or after this day (empty: from the start).",
    )
    until = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Up to and including this day (empty: up to today).",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            raise forms.ValidationError(f"The period ends ({until}) before it starts ({since}).")
        return data

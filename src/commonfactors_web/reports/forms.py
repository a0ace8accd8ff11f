"""The report's options: for whom it is, and whether a referrer's copy includes the
client's own words (shared journal entries and the cultural formulation)."""

from __future__ import annotations

from django import forms

from commonfactors_web.practice.forms import PeriodForm

__all__ = ["AUDIENCES", "PeriodForm", "ReportForm"]

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

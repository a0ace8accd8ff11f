"""The period filter and the development-log entry."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms

from commonfactors_web.practice.models import DevelopmentEntry


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


class EntryForm(forms.ModelForm):
    class Meta:
        model = DevelopmentEntry
        fields = ("kind", "date", "title", "notes")
        widgets: ClassVar[dict[str, Any]] = {
            "kind": forms.RadioSelect,
            "date": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        labels: ClassVar[dict[str, str]] = {
            "kind": "Kind of entry",
            "title": "What",
            "notes": "Notes (optional)",
        }

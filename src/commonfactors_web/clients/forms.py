from __future__ import annotations

from typing import Any

from django import forms

from commonfactors_web.clients.models import Client


class ClientForm(forms.Form):
    code = forms.CharField(
        max_length=40, help_text="A pseudonymous code, unique in your practice (e.g. C-0142)."
    )
    name = forms.CharField(max_length=200, required=False, help_text="Optional.")
    birth_year = forms.IntegerField(required=False, min_value=1900, max_value=2100)
    gender = forms.CharField(max_length=60, required=False)
    preferred_language = forms.CharField(max_length=10, initial="en")
    cultural_background = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="In the client's own words.",
    )
    email = forms.EmailField(required=False, help_text="For check-in links. Optional.")
    presenting_concerns = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    modality = forms.CharField(max_length=100, required=False)

    def __init__(self, *args: Any, practice_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.practice_id = practice_id

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"]).strip()
        if Client.objects.filter(practice_id=self.practice_id, code=code).exists():
            raise forms.ValidationError("A client with this code exists already.")
        return code

from __future__ import annotations

from django import forms

from commonfactors_web.api.services import (
    DEFAULT_LIFETIME_DAYS,
    LIFETIMES_DAYS,
    NAME_MAX_LENGTH,
)


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=NAME_MAX_LENGTH,
        label="Name",
        help_text="What the token is for, e.g. “practice export script”.",
    )
    days = forms.TypedChoiceField(
        choices=[(d, f"{d} days") for d in LIFETIMES_DAYS],
        coerce=int,
        initial=DEFAULT_LIFETIME_DAYS,
        label="Works for",
        help_text="After this it stops working; make a new one then.",
    )

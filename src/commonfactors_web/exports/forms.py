"""The export form: scope, format, period and (for an admin) client codes."""

from __future__ import annotations

from typing import Any

from django import forms

from commonfactors_web.exports import services


class ExportForm(forms.Form):
    scope = forms.ChoiceField(label="What to export", widget=forms.RadioSelect)
    client = forms.TypedChoiceField(
        label="Client",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Only with “One client”.",
    )
    format = forms.ChoiceField(
        label="Format",
        widget=forms.RadioSelect,
        choices=list(services.FORMATS.items()),
        initial="csv",
    )
    since = forms.DateField(
        label="From",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Session dates from this day (empty: from the start).",
    )
    until = forms.DateField(
        label="To",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Up to and including this day (empty: up to today).",
    )
    identified = forms.BooleanField(
        label="Include the practice's client codes (an identified export)",
        required=False,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        scopes = services.scopes_for(user)
        self.fields["scope"].choices = [(s, services.SCOPES[s]) for s in scopes]
        self.fields["scope"].initial = scopes[0] if scopes else None
        self.fields["client"].choices = [("", "—")] + [
            (c.pk, c.code) for c in services.single_clients(user).only("pk", "code")
        ]
        self.may_identify = services.may_identify(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", f"The period ends ({until}) before it starts ({since}).")
        if data.get("scope") == "client" and not data.get("client"):
            self.add_error("client", "Choose the client to export.")
        if data.get("identified") and not self.may_identify:
            self.add_error("identified", "Only an admin may include the practice's client codes.")
        return data

    @property
    def problems(self) -> list[tuple[str, str, str]]:
        """(field id, label, message) of every error, for the summary at the top."""
        out = []
        for name, errors in self.errors.items():
            field = self.fields.get(name)
            label = str(field.label) if field is not None else "Export"
            target = ""
            if field is not None:
                radio = isinstance(field.widget, forms.RadioSelect)
                target = f"{self[name].auto_id}_0" if radio else str(self[name].auto_id)
            out += [(target, label, str(e)) for e in errors]
        return out

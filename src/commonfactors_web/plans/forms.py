"""Forms of the plan pages. They only read what was posted; every check of the values is
the services' (``PlanError``), shown on the form by :func:`show_problems`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.utils import timezone

from commonfactors.goals import GAS_LEVELS
from commonfactors_web.checkins.models import MeasurementPlan
from commonfactors_web.plans.models import GAS_FIELDS, GoalStatus, PracticeTechnique
from commonfactors_web.plans.versions import GAS_LABELS, PLAN_FIELDS

TEXTAREA = {"rows": 3}
DATE = forms.DateInput(attrs={"type": "date"})


def show_problems(form: forms.Form, problems: Sequence[str]) -> None:
    """The services' problems as form errors (all of them, at the top of the form)."""
    for p in problems:
        form.add_error(None, p)


def _choice_field(field: str) -> forms.ChoiceField:
    _, label, choices = PLAN_FIELDS[field]
    return forms.ChoiceField(
        label=label,
        choices=[("", "Not discussed yet"), *choices.choices],
        required=False,
        widget=forms.RadioSelect,
    )


def _text_field(field: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=PLAN_FIELDS[field][1],
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=help_text,
    )


class PlanForm(forms.Form):
    """The whole plan but the goals: approach, preferences, cultural formulation."""

    modality = forms.CharField(
        label="Modality",
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "modalities"}),
        help_text="The main approach, e.g. CBT or integrative (choose or type).",
    )
    measurement_plan = forms.ModelChoiceField(
        label="Measurement plan",
        queryset=MeasurementPlan.objects.none(),
        required=False,
        empty_label="The practice's default plan",
    )
    rationale = _text_field(
        "rationale", "What the problem is and how the work will help, in words the client shares."
    )
    techniques = forms.MultipleChoiceField(
        label="Planned techniques", required=False, widget=forms.CheckboxSelectMultiple
    )
    pref_directiveness = _choice_field("pref_directiveness")
    pref_time_focus = _choice_field("pref_time_focus")
    pref_emotional_intensity = _choice_field("pref_emotional_intensity")
    pref_support_challenge = _choice_field("pref_support_challenge")
    pref_format = _choice_field("pref_format")
    pref_notes = _text_field(
        "pref_notes", "E.g. the therapist's gender or language, pace, a C-NIP result."
    )
    cultural_identity = _text_field(
        "cultural_identity", "How the client describes their background, communities, faith."
    )
    explanation = _text_field(
        "explanation", "What the client calls the problem and what they think causes it."
    )
    stressors_supports = _text_field("stressors_supports")
    family_involvement = _choice_field("family_involvement")
    family_notes = _text_field("family_notes")
    relationship = _text_field(
        "relationship", "E.g. formality, the therapist's background, how disagreement is voiced."
    )

    PREFERENCES = (
        "pref_directiveness",
        "pref_time_focus",
        "pref_emotional_intensity",
        "pref_support_challenge",
        "pref_format",
        "pref_notes",
    )
    CULTURE = (
        "cultural_identity",
        "explanation",
        "stressors_supports",
        "family_involvement",
        "family_notes",
        "relationship",
    )

    def __init__(
        self,
        *args: Any,
        plans: Iterable[MeasurementPlan],
        techniques: Iterable[PracticeTechnique],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        plan_field = self.fields["measurement_plan"]
        plan_field.queryset = plans  # type: ignore[attr-defined]
        self.fields["techniques"].choices = [(t.slug, t.name) for t in techniques]  # type: ignore[attr-defined]

    def section(self, names: Iterable[str]) -> list[forms.BoundField]:
        return [self[n] for n in names]

    def preference_fields(self) -> list[forms.BoundField]:
        return self.section(self.PREFERENCES)

    def culture_fields(self) -> list[forms.BoundField]:
        return self.section(self.CULTURE)


class GoalForm(forms.Form):
    text = forms.CharField(
        label="The goal, in the client's own words",
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    agreed_on = forms.DateField(
        label="Agreed on",
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )


class GoalEditForm(GoalForm):
    status = forms.ChoiceField(label="Status", choices=GoalStatus.choices, widget=forms.RadioSelect)
    gas_weight = forms.FloatField(
        label="Weight", initial=1.0, min_value=0.1, max_value=10, help_text="Usually 1."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for level, name in GAS_FIELDS.items():
            self.fields[name] = forms.CharField(
                label=f"Level {GAS_LABELS[level]}",
                required=False,
                max_length=300,
                widget=forms.TextInput(),
            )

    def gas_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in GAS_FIELDS.values()]

    def gas(self) -> dict[int, str]:
        return {level: self.cleaned_data.get(name) or "" for level, name in GAS_FIELDS.items()}


class AttainmentForm(forms.Form):
    level = forms.TypedChoiceField(
        label="Attainment",
        coerce=int,
        choices=[(level, GAS_LABELS[level]) for level in GAS_LEVELS],
        widget=forms.RadioSelect,
    )
    rated_on = forms.DateField(label="Rated on", widget=DATE, initial=timezone.localdate)


class TechniquesForm(forms.Form):
    techniques = forms.MultipleChoiceField(
        label="Techniques used", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, techniques: Iterable[PracticeTechnique], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["techniques"].choices = [(t.slug, t.name) for t in techniques]  # type: ignore[attr-defined]


class TechniqueForm(forms.Form):
    """A technique of the practice's catalogue (the admins' page)."""

    name = forms.CharField(max_length=120)
    slug = forms.CharField(
        label="Short name",
        max_length=60,
        required=False,
        help_text="Lower-case letters, digits and _; stored in plans, never changes.",
    )
    modality = forms.ChoiceField(choices=())
    description = forms.CharField(widget=forms.Textarea(attrs=TEXTAREA))
    source = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Optional."
    )
    active = forms.BooleanField(
        label="Offered in plans and session records", required=False, initial=True
    )

    def __init__(self, *args: Any, modalities: dict[str, str], new: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["modality"].choices = list(modalities.items())  # type: ignore[attr-defined]
        if new:
            self.fields["slug"].required = True
        else:
            del self.fields["slug"]

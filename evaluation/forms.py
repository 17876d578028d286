"""Forms of the evaluation. Validation only: writes go through ``evaluation.services``."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from aap.forms import DEADLINE_TIME_INVALID, DateInput, TimeInput
from aap.models import Call
from core.dates import NonexistentLocalTime, local_datetime
from core.forms import FrenchDecimalField
from evaluation.states import DecisionOutcome, OpinionKind


class AdmissibilityForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Décision"),
        choices=[("admissible", _("Recevable")), ("inadmissible", _("Irrecevable"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Motif (obligatoire si irrecevable, communiqué au candidat)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("outcome") == "inadmissible" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Indiquez le motif de l'irrecevabilité."))
        return cleaned


class GridForm(forms.Form):
    scale_max = forms.IntegerField(
        label=_("Note maximale de chaque sous-critère"), min_value=1, max_value=20
    )
    levels = forms.CharField(
        label=_("Libellés des notes, de 0 à la note maximale (un par ligne)"),
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    due_date = forms.DateField(
        label=_("Évaluations à rendre avant le"), required=False, widget=DateInput()
    )
    due_time = forms.TimeField(
        label=_("Heure (heure de Paris)"),
        required=False,
        initial=dt.time(17, 0),
        widget=TimeInput(),
    )
    evaluators_per_dossier = forms.IntegerField(
        label=_("Évaluateurs par dossier"), min_value=1, max_value=10
    )
    disagreement_threshold = FrenchDecimalField(
        label=_("Écart signalé entre évaluateurs (points sur 100)"),
        min_value=0,
        max_value=100,
        decimal_places=2,
        localize=True,
    )

    def __init__(self, *args, criteria, locked, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"weight_{criterion.pk}"] = FrenchDecimalField(
                label=_("Pondération : %(title)s (%%)") % {"title": criterion.title},
                min_value=0,
                max_value=100,
                decimal_places=2,
                localize=True,
                initial=criterion.weight,
                disabled=locked,
            )
        if locked:
            self.fields["scale_max"].disabled = True

    def clean(self):
        cleaned = super().clean()
        levels = [
            line.strip() for line in (cleaned.get("levels") or "").splitlines() if line.strip()
        ]
        cleaned["level_list"] = levels
        if cleaned.get("due_date") and cleaned.get("due_time"):
            try:
                cleaned["due_at"] = local_datetime(cleaned["due_date"], cleaned["due_time"])
            except NonexistentLocalTime:
                self.add_error("due_time", DEADLINE_TIME_INVALID)
        else:
            cleaned["due_at"] = None
        cleaned["weights"] = {
            criterion.pk: cleaned.get(f"weight_{criterion.pk}") for criterion in self.criteria
        }
        return cleaned


class AssignForm(forms.Form):
    evaluator = forms.ModelChoiceField(label=_("Évaluateur"), queryset=None)

    def __init__(self, *args, evaluators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evaluator"].queryset = evaluators


class ConflictForm(forms.Form):
    has_conflict = forms.TypedChoiceField(
        label=_("Avez-vous un lien avec ce candidat (emploi, mandat, parenté, intérêt) ?"),
        choices=[
            ("no", _("Non, aucun conflit d'intérêts")),
            ("yes", _("Oui, je déclare un conflit d'intérêts")),
        ],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Nature du lien (si conflit)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class EvaluationForm(forms.Form):
    """A score per sub-criterion (radio buttons with the grid's labels), a justification
    per criterion, an overall comment. Gaps are allowed in a draft."""

    def __init__(self, *args, criteria, grid, scores, justifications, comment, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        choices = grid.level_choices()
        for criterion in criteria:
            for sub in criterion.subcriteria.all():
                name = f"score_{sub.pk}"
                self.fields[name] = forms.TypedChoiceField(
                    label=sub.title,
                    choices=choices,
                    coerce=int,
                    required=False,
                    widget=forms.RadioSelect,
                    empty_value=None,
                )
                if sub.pk in scores:
                    self.initial[name] = scores[sub.pk]
            name = f"justification_{criterion.pk}"
            self.fields[name] = forms.CharField(
                label=_("Justification : %(title)s") % {"title": criterion.title},
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.initial[name] = justifications.get(criterion.pk, "")
        self.fields["comment"] = forms.CharField(
            label=_("Appréciation générale"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
        )
        self.initial["comment"] = comment

    def groups(self):
        """[(criterion, [score fields], justification field)]"""
        return [
            (
                criterion,
                [self[f"score_{sub.pk}"] for sub in criterion.subcriteria.all()],
                self[f"justification_{criterion.pk}"],
            )
            for criterion in self.criteria
        ]

    def scores(self):
        return {
            int(name.removeprefix("score_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("score_")
        }

    def justifications(self):
        return {
            int(name.removeprefix("justification_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("justification_")
        }


class ReopenEvaluationForm(forms.Form):
    note = forms.CharField(
        label=_("Motif de la réouverture"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ConsensusForm(forms.Form):
    total = FrenchDecimalField(
        label=_("Note de consensus (sur 100)"),
        min_value=0,
        max_value=100,
        decimal_places=2,
        localize=True,
    )
    reason = forms.CharField(
        label=_("Motif (réunion d'harmonisation)"), widget=forms.Textarea(attrs={"rows": 2})
    )


class OpinionForm(forms.Form):
    kind = forms.ChoiceField(label=_("Avis"), choices=OpinionKind.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Commentaire"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Décision"), choices=DecisionOutcome.choices)
    # "24 500,00" as the dossiers show amounts: grouping spaces are accepted.
    amount_granted = FrenchDecimalField(
        label=_("Montant attribué (€)"),
        required=False,
        min_value=0,
        decimal_places=2,
        localize=True,
    )
    fte_granted = FrenchDecimalField(
        label=_("ETP financés"), required=False, min_value=0, decimal_places=2, localize=True
    )
    reason = forms.CharField(
        label=_("Motif"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    deliberation = forms.CharField(
        label=_("Référence de la délibération"),
        required=False,
        max_length=100,
        help_text=_(
            "Commission permanente, par exemple « 2026 CP03 12-4 » : publiée avec les données "
            "ouvertes. À saisir avant la notification, qui fige la décision."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        outcome = cleaned.get("outcome")
        if outcome == DecisionOutcome.SELECTED:
            for name in ("amount_granted", "fte_granted"):
                if cleaned.get(name) is None:
                    self.add_error(name, _("Obligatoire pour un dossier retenu."))
        if outcome == DecisionOutcome.NOT_SELECTED and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Indiquez le motif de la décision."))
        return cleaned


class RectificationForm(DecisionForm):
    """A notified decision's new values, with the reason the candidate will read."""

    deliberation = None  # the notified decision keeps the deliberation that granted it
    reason = forms.CharField(
        label=_("Motif de la rectification (communiqué au candidat)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    opening = forms.CharField(
        label=_("Paragraphe d'ouverture de la lettre"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Vide : le texte habituel. « Prévisualiser la lettre » la montre sans rien enregistrer."
        ),
    )
    closing = forms.CharField(
        label=_("Paragraphe de conclusion de la lettre"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Vide : le texte habituel."),
    )

    def clean(self):
        cleaned = forms.Form.clean(self)
        if cleaned.get("outcome") == DecisionOutcome.SELECTED:
            for name in ("amount_granted", "fte_granted"):
                if cleaned.get(name) is None:
                    self.add_error(name, _("Obligatoire pour un dossier retenu."))
        return cleaned


class AdmissibilityRectificationForm(forms.Form):
    """A notified inadmissibility corrected: the reason the candidate will read, the
    committee's decision on each of the dossier's lots, and the letter's paragraphs."""

    reason = forms.CharField(
        label=_("Motif de la rectification (communiqué au candidat)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Par exemple : le recours gracieux montre que la pièce était jointe."),
    )

    def __init__(self, *args, lots, **kwargs):
        super().__init__(*args, **kwargs)
        self.lots = list(lots)
        for lot in self.lots:
            self.fields[f"outcome_{lot.pk}"] = forms.ChoiceField(
                label=_("Lot %(lot)s : décision du comité") % {"lot": lot.name},
                choices=[("", "---------"), *DecisionOutcome.choices],
            )
            self.fields[f"amount_granted_{lot.pk}"] = FrenchDecimalField(
                label=_("Lot %(lot)s : montant attribué (€)") % {"lot": lot.name},
                required=False,
                min_value=0,
                decimal_places=2,
                localize=True,
            )
            self.fields[f"fte_granted_{lot.pk}"] = FrenchDecimalField(
                label=_("Lot %(lot)s : ETP financés") % {"lot": lot.name},
                required=False,
                min_value=0,
                decimal_places=2,
                localize=True,
            )
            self.fields[f"reason_{lot.pk}"] = forms.CharField(
                label=_("Lot %(lot)s : motif de la décision") % {"lot": lot.name},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"deliberation_{lot.pk}"] = forms.CharField(
                label=_("Lot %(lot)s : référence de la délibération") % {"lot": lot.name},
                required=False,
                max_length=100,
                help_text=_(
                    "Publiée avec les données ouvertes ; la décision est notifiée et figée par cet acte."
                ),
            )
        self.fields["opening"] = forms.CharField(
            label=_("Paragraphe d'ouverture de la lettre"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_(
                "Vide : le texte habituel. « Prévisualiser la lettre » la montre sans rien "
                "enregistrer."
            ),
        )
        self.fields["closing"] = forms.CharField(
            label=_("Paragraphe de conclusion de la lettre"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_("Vide : le texte habituel."),
        )

    def clean(self):
        cleaned = super().clean()
        for lot in self.lots:
            if cleaned.get(f"outcome_{lot.pk}") == DecisionOutcome.SELECTED:
                for name in (f"amount_granted_{lot.pk}", f"fte_granted_{lot.pk}"):
                    if cleaned.get(name) is None:
                        self.add_error(name, _("Obligatoire pour un dossier retenu."))
        return cleaned

    def service_arguments(self) -> dict:
        """What ``rectify_admissibility`` takes."""
        data = self.cleaned_data
        return {
            "reason": data["reason"],
            "opening": data["opening"],
            "closing": data["closing"],
            "decisions": {
                lot.pk: {
                    "outcome": data[f"outcome_{lot.pk}"],
                    "amount_granted": data[f"amount_granted_{lot.pk}"],
                    "fte_granted": data[f"fte_granted_{lot.pk}"],
                    "reason": data[f"reason_{lot.pk}"],
                    "deliberation": data[f"deliberation_{lot.pk}"],
                }
                for lot in self.lots
            },
        }


class LetterDraftForm(forms.Form):
    opening = forms.CharField(
        label=_("Paragraphe d'ouverture"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Avant la décision. Vide : le texte habituel."),
    )
    closing = forms.CharField(
        label=_("Paragraphe de conclusion"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Après la décision, avant la formule de politesse. Vide : le texte habituel."),
    )


class LetterTermsForm(forms.ModelForm):
    """The call's own place, signatory and recours wording; empty: the authority's."""

    class Meta:
        model = Call
        fields = [
            "letter_place",
            "letter_signatory_name",
            "letter_signatory_title",
            "letter_signatory_delegation",
            "appeal_authority",
            "appeal_authority_address",
            "appeal_court",
            "appeal_court_address",
            "appeal_wording",
        ]
        widgets = {"appeal_wording": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, defaults: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if defaults.get(name):
                field.widget.attrs["placeholder"] = defaults[name]

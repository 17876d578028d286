"""Forms of agreements. Validation only: writes go through ``conventions.services``."""

import datetime as dt
from decimal import Decimal

from django import forms
from django.forms import inlineformset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aap.forms import DEADLINE_TIME_INVALID, DateInput, TimeInput
from aap.models import Call, Lot
from conventions.articles import ARTICLE_FIELDS, TITLES, placeholder_problem
from conventions.models import Convention, FundingTerms, Indicator
from conventions.states import PaymentAction, PaymentCondition
from core.dates import NonexistentLocalTime, local_datetime
from core.forms import EurosField, FrenchDecimalField, french_formfield


class DashboardFilterForm(forms.Form):
    """Year, call and lot of the dashboard (GET): an empty field filters nothing."""

    year = forms.TypedChoiceField(label=_("Année"), required=False, coerce=int, empty_value=None)
    call = forms.ModelChoiceField(
        label=_("Appel à projets"), queryset=Call.objects.none(), required=False
    )
    lot = forms.ModelChoiceField(label=_("Lot"), queryset=Lot.objects.none(), required=False)

    def __init__(self, *args, years, calls, lots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", _("Toutes")), *[(y, str(y)) for y in years]]
        self.fields["call"].queryset = calls
        self.fields["call"].empty_label = _("Tous")
        self.fields["call"].label_from_instance = lambda call: call.reference
        self.fields["lot"].queryset = lots
        self.fields["lot"].empty_label = _("Tous")
        self.fields["lot"].label_from_instance = lambda lot: f"{lot.call.reference} – {lot.name}"


class PeriodForm(forms.Form):
    period_start = forms.DateField(
        label=_("Début de la convention"),
        widget=DateInput(),
        help_text=_(
            "Au plus tôt le jour de la décision ; par défaut le premier jour du mois qui la suit."
        ),
    )
    period_end = forms.DateField(
        label=_("Fin de la convention"),
        widget=DateInput(),
        help_text=_("Par défaut douze mois après le début."),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("La fin de la convention précède son début."))
        return cleaned


class CreateConventionForm(PeriodForm):
    pass


class DraftForm(forms.ModelForm):
    """The period and the texts of a draft: changing the period derives the schedule and
    the reports again. Validation only: ``services.update_draft`` writes."""

    class Meta:
        model = Convention
        formfield_callback = french_formfield
        fields = ["period_start", "period_end", "subsidy_share", *ARTICLE_FIELDS]
        localized_fields = ["subsidy_share"]
        widgets = {
            "period_start": DateInput(),
            "period_end": DateInput(),
            **{name: forms.Textarea(attrs={"rows": 3}) for name in ARTICLE_FIELDS},
        }
        labels = {
            "period_start": _("Début de la convention"),
            "period_end": _("Fin de la convention"),
            **TITLES,
        }
        help_texts = {
            "period_start": _(
                "Au plus tôt le jour de la décision. Changer la période recalcule l'échéancier "
                "et les dates des bilans."
            )
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("La fin de la convention précède son début."))
        for name in ARTICLE_FIELDS:
            if problem := placeholder_problem(name, cleaned.get(name, ""), template=False):
                self.add_error(name, problem)
        return cleaned

    def _post_clean(self):
        """No model validation here: the instance is not the one saved (the service
        locks and writes the row)."""


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Commentaire (facultatif)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TerminateForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de la résiliation"), widget=forms.Textarea(attrs={"rows": 3})
    )


class SignatureForm(forms.Form):
    signed_on = forms.DateField(label=_("Date de signature"), widget=DateInput())
    file = forms.FileField(
        label=_("Convention signée (PDF)"),
        error_messages={"required": _("Choisissez le PDF de la convention signée.")},
    )

    def clean_signed_on(self):
        signed_on = self.cleaned_data["signed_on"]
        if signed_on > timezone.localdate():
            raise forms.ValidationError(_("La date de signature ne peut pas être dans le futur."))
        return signed_on


class AmendmentForm(forms.Form):
    changes = forms.CharField(
        label=_("Ce que l'avenant modifie, et pourquoi"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    amount_after = EurosField(label=_("Montant de la convention après l'avenant (€)"))
    period_end_after = forms.DateField(
        label=_("Fin de la convention après l'avenant"), widget=DateInput()
    )


class AmendmentSignatureForm(SignatureForm):
    file = forms.FileField(
        label=_("Avenant signé (PDF)"),
        error_messages={"required": _("Choisissez le PDF de l'avenant signé.")},
    )


class PaymentForm(forms.Form):
    """An instalment of a draft's schedule or of an avenant's."""

    label = forms.CharField(label=_("Versement"), max_length=200)
    due_on = forms.DateField(label=_("Échéance prévisionnelle"), widget=DateInput())
    amount = EurosField(label=_("Montant (€)"), min_value=Decimal("0.01"))
    condition = forms.ChoiceField(
        label=_("Condition du versement"),
        choices=PaymentCondition.choices,
        initial=PaymentCondition.SIGNATURE,
        help_text=_("La plateforme refuse la demande tant que la condition n'est pas remplie."),
    )
    condition_date = forms.DateField(
        label=_("À partir du (condition « à partir d'une date »)"),
        widget=DateInput(),
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("condition") == PaymentCondition.DATE and not cleaned.get("condition_date"):
            self.add_error("condition_date", _("Indiquez la date à partir de laquelle verser."))
        return cleaned


class SendBackForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du renvoi à la structure"), widget=forms.Textarea(attrs={"rows": 2})
    )


class PaymentMoveForm(forms.Form):
    on = forms.DateField(label=_("Date"), widget=DateInput())
    reference = forms.CharField(
        label=_("Référence comptable du mandat"), max_length=100, required=False
    )

    def __init__(self, *args, action, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        self.fields["on"].label = {
            PaymentAction.REQUEST: _("Demandé le"),
            PaymentAction.ORDER: _("Mandaté le"),
            PaymentAction.PAY: _("Versé le"),
        }[action]
        self.fields["on"].initial = timezone.localdate()
        if action == PaymentAction.ORDER:
            self.fields["reference"].required = True
        else:
            del self.fields["reference"]


class ReviewForm(forms.Form):
    date = forms.DateField(label=_("Date du point d'étape"), widget=DateInput())
    time = forms.TimeField(
        label=_("Heure (heure de Paris)"), initial=dt.time(10, 0), widget=TimeInput()
    )
    place = forms.CharField(label=_("Lieu ou visioconférence"), max_length=250, required=False)
    participants = forms.CharField(
        label=_("Participants"),
        help_text=_("Département, DDETS, structure."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date") and cleaned.get("time"):
            try:
                cleaned["scheduled_at"] = local_datetime(cleaned["date"], cleaned["time"])
            except NonexistentLocalTime:
                self.add_error("time", DEADLINE_TIME_INVALID)
        return cleaned


class ReviewRecordForm(forms.Form):
    minutes = forms.CharField(label=_("Compte rendu"), widget=forms.Textarea(attrs={"rows": 4}))
    adjustments = forms.CharField(
        label=_("Décisions d'ajustement"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RemarkForm(forms.Form):
    text = forms.CharField(label=_("Remarque"), widget=forms.Textarea(attrs={"rows": 2}))


class ReportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier du bilan (PDF, DOCX ou ODT)"),
        error_messages={"required": _("Choisissez un fichier à envoyer.")},
    )


class IndicatorValuesForm(forms.Form):
    """One quarter's values, one field per indicator of the call (empty: not reported)."""

    period = forms.TypedChoiceField(label=_("Trimestre"), coerce=int, widget=forms.HiddenInput)

    def __init__(self, *args, indicators, quarters=4, values=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [
            (period, _("Trimestre %(n)s") % {"n": period}) for period in range(1, quarters + 1)
        ]
        self.indicators = list(indicators)
        values = values or {}
        for indicator in self.indicators:
            entry = values.get(indicator.pk)
            self.fields[f"value_{indicator.pk}"] = FrenchDecimalField(
                label=(
                    _("%(label)s (%(unit)s, niveau à la fin du trimestre)")
                    if indicator.is_level
                    else "%(label)s (%(unit)s)"
                )
                % {"label": indicator.label, "unit": indicator.unit},
                required=False,
                min_value=0,
                max_digits=10,
                decimal_places=2,
                localize=True,
                initial=entry.value if entry else None,
            )
            self.fields[f"comment_{indicator.pk}"] = forms.CharField(
                label=_("Commentaire : %(label)s") % {"label": indicator.label},
                max_length=500,
                required=False,
                initial=entry.comment if entry else "",
            )

    def entries(self):
        """[(indicator, value, comment)] for the indicators given a value."""
        return [
            (
                indicator,
                self.cleaned_data[f"value_{indicator.pk}"],
                self.cleaned_data.get(f"comment_{indicator.pk}", ""),
            )
            for indicator in self.indicators
            if self.cleaned_data.get(f"value_{indicator.pk}") is not None
        ]


class IndicatorForm(forms.ModelForm):
    class Meta:
        model = Indicator
        formfield_callback = french_formfield
        fields = ["position", "label", "unit", "kind", "target"]
        localized_fields = ["target"]


class IndicatorFormSetBase(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk and form.instance.values.exists():
                raise forms.ValidationError(
                    _(
                        "L'indicateur « %(label)s » a déjà des valeurs renseignées : il ne peut "
                        "plus être supprimé."
                    )
                    % {"label": form.instance.label}
                )


IndicatorFormSet = inlineformset_factory(
    Call,
    Indicator,
    form=IndicatorForm,
    formset=IndicatorFormSetBase,
    extra=2,
    can_delete=True,
)


class FundingTermsForm(forms.ModelForm):
    class Meta:
        model = FundingTerms
        formfield_callback = french_formfield
        fields = ["advance_percent", "advance_days", "balance_condition", *ARTICLE_FIELDS]
        localized_fields = ["advance_percent"]
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in ARTICLE_FIELDS}

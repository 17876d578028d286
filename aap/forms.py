"""Forms of the call back-office and of the questions. Validation only: writes are services."""

import datetime as dt
from zoneinfo import ZoneInfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.conf import settings
from django.db import transaction
from django.forms import inlineformset_factory
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from aap.models import (
    KINDS_WITH_CHOICES,
    KINDS_WITH_LENGTH,
    Call,
    Criterion,
    ExpectedAction,
    Lot,
    OrganisationKind,
    Question,
    QuestionKind,
    QuestionMeaning,
    ReminderSetting,
    RequiredDocument,
)
from aap.models.reminders import days_list
from aap.reminder_settings import days_for
from aap.services import weights_problem
from aap.states import CallStatus
from core.dates import NonexistentLocalTime, local_datetime
from core.documents import DocumentFormat
from core.forms import french_formfield
from core.reminders import reminder_settings
from core.uploads import check_upload, clean_filename

TEMPLATE_MAX_BYTES = 20 * 1024 * 1024

DEADLINE_TIME_INVALID = _(
    "Cette heure n'existe pas, ou existe deux fois, ce jour-là à cause du changement d'heure : "
    "choisissez une autre heure."
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone(ZoneInfo(settings.TIME_ZONE))


class DeadlineFieldsMixin:
    """A deadline typed as a date and an hour on a Paris clock."""

    def clean_deadline_parts(self, day_field="deadline_date", time_field="deadline_time"):
        day = self.cleaned_data.get(day_field)
        time = self.cleaned_data.get(time_field)
        if day is None or time is None:
            return None
        try:
            return local_datetime(day, time)
        except NonexistentLocalTime:
            self.add_error(time_field, DEADLINE_TIME_INVALID)
            return None


class CallForm(DeadlineFieldsMixin, forms.ModelForm):
    opens_on = forms.DateField(label=_("Lancement de l'appel à projets"), widget=DateInput())
    deadline_date = forms.DateField(
        label=_("Date limite de réception des dossiers"), widget=DateInput()
    )
    deadline_time = forms.TimeField(
        label=_("Heure limite (heure de Paris)"), initial=dt.time(17, 0), widget=TimeInput()
    )
    eligible_kinds = forms.MultipleChoiceField(
        label=_("Types de structures éligibles"),
        choices=OrganisationKind.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    priority_kinds = forms.MultipleChoiceField(
        label=_("Types de structures ciblées en priorité"),
        choices=OrganisationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Call
        fields = [
            "programme",
            "title",
            "reference",
            "slug",
            "year",
            "authority",
            "summary",
            "context",
            "objectives",
            "actions_intro",
            "actions_note",
            "selection_intro",
            "eligibility",
            "eligible_kinds",
            "priority_kinds",
            "partnership_terms",
            "funding_terms",
            "dossier_contents",
            "submission_terms",
            "start_expected",
            "funding_request_generated",
            "paper_copy_required",
            "paper_copy_rule",
            "paper_copy_count",
            "paper_mail_address",
            "hand_delivery_allowed",
            "hand_delivery_address",
            "contact_email",
            "contact_details",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 6})
            for name in (
                "context",
                "objectives",
                "partnership_terms",
                "funding_terms",
                "dossier_contents",
                "submission_terms",
            )
        } | {
            name: forms.Textarea(attrs={"rows": 3})
            for name in (
                "summary",
                "actions_intro",
                "actions_note",
                "selection_intro",
                "eligibility",
                "paper_mail_address",
                "hand_delivery_address",
                "contact_details",
            )
        }
        help_texts = {
            "context": _(
                "Paragraphes séparés par une ligne vide ; une ligne commençant par « - » "
                "devient un élément de liste."
            ),
            "slug": _(
                "Dernière partie de l'adresse de la page publique. Laisser vide pour la "
                "déduire de la référence."
            ),
            "start_expected": _(
                "Une phrase, reprise telle quelle dans le calendrier de l'appel à projets : "
                "« Démarrage à envisager au plus tôt à l'automne 2024 »."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        call = self.instance
        if call.pk:
            self.fields["opens_on"].initial = _local(call.opens_at).date()
            deadline = _local(call.deadline)
            self.fields["deadline_date"].initial = deadline.date()
            self.fields["deadline_time"].initial = deadline.time()
            self.fields["reference"].disabled = call.status != CallStatus.DRAFT
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Fieldset(
                _("Identification"),
                "programme",
                Div(
                    Div("title", css_class="col-md-8"),
                    Div("year", css_class="col-md-4"),
                    css_class="row",
                ),
                Div(
                    Div("reference", css_class="col-md-6"),
                    Div("slug", css_class="col-md-6"),
                    css_class="row",
                ),
                "authority",
                "summary",
            ),
            Fieldset(
                _("Contenu de l'appel"),
                "context",
                "objectives",
                "actions_intro",
                HTML(
                    "<p class='form-text'>"
                    + str(_("Les actions attendues se saisissent dans l'onglet « Actions »."))
                    + "</p>"
                ),
                "actions_note",
                "selection_intro",
            ),
            Fieldset(_("Structures visées"), "eligibility", "eligible_kinds", "priority_kinds"),
            Fieldset(_("Suivi et financement"), "partnership_terms", "funding_terms"),
            Fieldset(
                _("Calendrier"),
                Div(
                    Div("opens_on", css_class="col-md-4"),
                    Div("deadline_date", css_class="col-md-4"),
                    Div("deadline_time", css_class="col-md-4"),
                    css_class="row",
                ),
                "start_expected",
            ),
            Fieldset(
                _("Dépôt des dossiers"),
                "dossier_contents",
                "submission_terms",
                "funding_request_generated",
                "paper_copy_required",
                Div(
                    Div("paper_copy_rule", css_class="col-md-8"),
                    Div("paper_copy_count", css_class="col-md-4"),
                    css_class="row",
                ),
                "paper_mail_address",
                "hand_delivery_allowed",
                "hand_delivery_address",
            ),
            Fieldset(_("Contact"), "contact_email", "contact_details"),
        )

    def clean_reference(self):
        reference = self.cleaned_data["reference"].strip().upper()
        if not all(char.isalnum() or char == "-" for char in reference):
            raise forms.ValidationError(
                _("Utilisez seulement des lettres, des chiffres et des tirets (ex. AAP-2024-FCS).")
            )
        return reference

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("slug") and cleaned.get("reference"):
            cleaned["slug"] = slugify(cleaned["reference"])
            if Call.objects.filter(slug=cleaned["slug"]).exclude(pk=self.instance.pk).exists():
                self.add_error("reference", _("Un appel à projets utilise déjà cette adresse."))
        eligible = set(cleaned.get("eligible_kinds") or [])
        if set(cleaned.get("priority_kinds") or []) - eligible:
            self.add_error(
                "priority_kinds", _("Une structure prioritaire doit aussi être éligible.")
            )
        if cleaned.get("paper_copy_required") and not (
            cleaned.get("paper_mail_address") or cleaned.get("hand_delivery_address")
        ):
            self.add_error(
                "paper_mail_address", _("Indiquez où envoyer ou déposer l'exemplaire papier.")
            )
        if cleaned.get("hand_delivery_allowed") and not cleaned.get("hand_delivery_address"):
            self.add_error(
                "hand_delivery_address", _("Indiquez l'adresse du dépôt en main propre.")
            )
        deadline = self.clean_deadline_parts()
        opens_on = cleaned.get("opens_on")
        if deadline is not None and opens_on is not None:
            opens_at = local_datetime(opens_on, dt.time(0, 0))
            if deadline <= opens_at:
                self.add_error("deadline_date", _("La date limite doit suivre le lancement."))
            elif (
                self.instance.pk
                and self.instance.status == CallStatus.PUBLISHED
                and (deadline < self.instance.deadline)
            ):
                self.add_error(
                    "deadline_date",
                    _("L'appel est publié : la date limite peut être reportée, pas avancée."),
                )
            else:
                self.instance.opens_at = opens_at
                self.instance.deadline = deadline
        return cleaned


class LotForm(forms.ModelForm):
    class Meta:
        model = Lot
        formfield_callback = french_formfield
        fields = ["position", "name", "territory", "fte", "budget"]
        localized_fields = ["fte", "budget"]  # "0,5" as French users type it
        widgets = {"territory": forms.Textarea(attrs={"rows": 2})}


class CriterionForm(forms.ModelForm):
    subcriteria_text = forms.CharField(
        label=_("Sous-critères"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Un sous-critère par ligne."),
    )

    class Meta:
        model = Criterion
        formfield_callback = french_formfield
        fields = ["position", "title", "weight", "description"]
        localized_fields = ["weight"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["subcriteria_text"].initial = "\n".join(
                sub.title for sub in self.instance.subcriteria.all()
            )

    def clean_subcriteria_text(self):
        lines = [line.strip(" -•\t") for line in self.cleaned_data["subcriteria_text"].splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise forms.ValidationError(_("Indiquez au moins un sous-critère."))
        too_long = [line for line in lines if len(line) > 250]
        if too_long:
            raise forms.ValidationError(_("Un sous-critère ne doit pas dépasser 250 caractères."))
        return lines

    def save(self, commit=True):
        criterion = super().save(commit=commit)
        if commit:
            titles = self.cleaned_data["subcriteria_text"]
            existing = list(criterion.subcriteria.all())
            for position, title in enumerate(titles, start=1):
                if position <= len(existing):
                    sub = existing[position - 1]
                    if (sub.title, sub.position) != (title, position):
                        sub.title, sub.position = title, position
                        sub.save(update_fields=["title", "position"])
                else:
                    criterion.subcriteria.create(title=title, position=position)
            for sub in existing[len(titles) :]:
                sub.delete()
        return criterion


class CriterionFormSetBase(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.cleaned_data.get("weight")
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if problem := weights_problem(kept):
            raise forms.ValidationError(problem)


class ExpectedActionForm(forms.ModelForm):
    class Meta:
        model = ExpectedAction
        fields = ["position", "label"]


class RequiredDocumentForm(forms.ModelForm):
    allowed_formats = forms.MultipleChoiceField(
        label=_("Formats acceptés"),
        choices=DocumentFormat.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    template = forms.FileField(
        label=_("Modèle à télécharger"),
        required=False,
        help_text=_("PDF, DOCX, ODT, XLSX ou ODS, 20 Mo au plus."),
    )

    class Meta:
        model = RequiredDocument
        fields = [
            "position",
            "label",
            "description",
            "mandatory",
            "multiple",
            "allowed_formats",
            "max_size_mb",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def clean_template(self):
        uploaded = self.cleaned_data.get("template")
        if uploaded and hasattr(uploaded, "size") and not getattr(uploaded, "_committed", False):
            check_upload(
                uploaded,
                allowed_formats=[code for code, _label in DocumentFormat.choices],
                max_bytes=TEMPLATE_MAX_BYTES,
            )
        return uploaded

    def save(self, commit=True):
        uploaded = self.cleaned_data.get("template")
        if uploaded:
            self.instance.template = uploaded
            self.instance.template_name = clean_filename(uploaded.name)
            self.instance.template_size = uploaded.size
        return super().save(commit=commit)


class QuestionForm(forms.ModelForm):
    """One question of the form editor; its place is set by moving it (``aap.form_editor``)."""

    class Meta:
        model = Question
        fields = [
            "section",
            "label",
            "kind",
            "required",
            "help_text",
            "max_length",
            "choices",
            "meaning",
        ]
        widgets = {
            "help_text": forms.Textarea(attrs={"rows": 2}),
            "choices": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "help_text": _(
                "Texte simple. Mise en forme possible : **gras**, *italique*, "
                "listes en « - » et liens [texte](https://…). Le HTML est affiché tel quel."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if (
            kind in KINDS_WITH_CHOICES
            and len([line for line in (cleaned.get("choices") or "").splitlines() if line.strip()])
            < 2
        ):
            self.add_error("choices", _("Indiquez au moins deux choix, un par ligne."))
        if kind and kind not in KINDS_WITH_CHOICES:
            cleaned["choices"] = ""
        if kind and kind not in KINDS_WITH_LENGTH:
            cleaned["max_length"] = None
        if (
            cleaned.get("meaning") == QuestionMeaning.REQUESTED_AMOUNT
            and kind != QuestionKind.AMOUNT
        ):
            self.add_error(
                "meaning", _("Le montant sollicité se lit dans une question « Montant en euros ».")
            )
        return cleaned


LotFormSet = inlineformset_factory(Call, Lot, form=LotForm, extra=1, can_delete=True)
# Three empty rows: every save must bring the weights to 100, so a first criterion cannot
# be saved alone; the criteria of a new call are entered together.
CriterionFormSet = inlineformset_factory(
    Call, Criterion, form=CriterionForm, formset=CriterionFormSetBase, extra=3, can_delete=True
)
ExpectedActionFormSet = inlineformset_factory(
    Call, ExpectedAction, form=ExpectedActionForm, extra=2, can_delete=True
)
RequiredDocumentFormSet = inlineformset_factory(
    Call, RequiredDocument, form=RequiredDocumentForm, extra=1, can_delete=True
)


class TransitionForm(forms.Form):
    note = forms.CharField(
        label=_("Note pour l'historique"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReopenForm(DeadlineFieldsMixin, forms.Form):
    deadline_date = forms.DateField(label=_("Nouvelle date limite"), widget=DateInput())
    deadline_time = forms.TimeField(
        label=_("Heure limite (heure de Paris)"), initial=dt.time(17, 0), widget=TimeInput()
    )
    note = forms.CharField(
        label=_("Motif (visible dans l'historique)"), widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean(self):
        cleaned = super().clean()
        cleaned["deadline"] = self.clean_deadline_parts()
        return cleaned


class AskQuestionForm(forms.Form):
    question = forms.CharField(
        label=_("Votre question"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "La réponse sera publiée sur cette page pour tous les candidats, sans votre nom "
            "ni celui de votre structure."
        ),
    )


class AnswerForm(forms.Form):
    public_question = forms.CharField(
        label=_("Question telle qu'elle sera publiée"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Retirez ce qui permettrait d'identifier la structure qui l'a posée."),
    )
    answer = forms.CharField(label=_("Réponse"), widget=forms.Textarea(attrs={"rows": 5}))


class ReminderSettingsForm(forms.Form):
    """The offsets of a call's reminders: one field per offset that the kinds of reminder
    declare (``core.reminders.Setting``), each showing the call's value or the default."""

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        self.call = call
        current = days_for(call)
        for setting in reminder_settings():
            value = current.saved.get(setting.name) or setting.default
            if setting.many:
                field = forms.CharField(
                    label=setting.label, max_length=50, validators=[days_list], initial=value
                )
            else:
                field = forms.IntegerField(
                    label=setting.label, min_value=0, max_value=365, initial=int(value)
                )
            field.help_text = setting.help_text
            self.fields[setting.name] = field

    def save(self) -> None:
        """Store the offsets that differ from their default; forget the others."""
        with transaction.atomic():
            for setting in reminder_settings():
                days = ReminderSetting.parse(str(self.cleaned_data[setting.name]))
                if days == ReminderSetting.parse(setting.default):
                    ReminderSetting.objects.filter(call=self.call, name=setting.name).delete()
                    continue
                ReminderSetting.objects.update_or_create(
                    call=self.call,
                    name=setting.name,
                    defaults={"days": ", ".join(str(day) for day in days)},
                )

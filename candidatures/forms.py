"""Forms of the candidates' space and of the staff's follow-up. Validation only."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aap.forms import DEADLINE_TIME_INVALID, DateInput, TimeInput
from aap.models import OrganisationKind, RequiredDocument
from candidatures.models import Organisation, PaperCopy, PaperMethod, Territory
from core.dates import NonexistentLocalTime, local_datetime
from core.forms import AddressField


class OrganisationForm(forms.ModelForm):
    territories = forms.ModelMultipleChoiceField(
        label=_("Territoires couverts (EPCI)"),
        queryset=Territory.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    # Longer than the 14 digits: a SIRET pasted as "732 829 320 00074" must reach
    # clean_siret, which drops the spaces; the model's validators then check 14 digits.
    siret = forms.CharField(
        label=_("SIRET"),
        max_length=20,
        help_text=Organisation._meta.get_field("siret").help_text,
        # The form's unique check runs before the service's: the same advice in both.
        error_messages={
            "unique": _(
                "Une structure avec ce SIRET existe déjà sur la plateforme. Demandez à l'un "
                "de ses membres de vous inviter."
            )
        },
    )

    # Longer than the 10 characters too: "w 381 234 567" reaches clean_rna, which tidies it.
    rna = forms.CharField(
        label=_("Numéro RNA"),
        max_length=20,
        required=False,
        help_text=Organisation._meta.get_field("rna").help_text,
    )

    class Meta:
        model = Organisation
        fields = [
            "name",
            "kind",
            "siret",
            "rna",
            "address",
            "postal_code",
            "city",
            "legal_representative_name",
            "legal_representative_role",
            "legal_representative_email",
            "territories",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("— Choisir —")), *OrganisationKind.choices]
        self.fields["siret"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})
        self.fields["postal_code"].widget.attrs.update({"inputmode": "numeric"})

    def clean_siret(self):
        # People paste "123 456 789 00012": keep the digits, then the checksum decides.
        return "".join(char for char in self.cleaned_data["siret"] if not char.isspace())

    def clean_rna(self):
        # "w 381 234 567" as people copy it: capital W, no spaces; the model checks the rest.
        return "".join(self.cleaned_data["rna"].split()).upper()

    def clean_postal_code(self):
        code = self.cleaned_data["postal_code"].strip()
        if not (len(code) == 5 and code.isdigit()):
            raise forms.ValidationError(_("Le code postal compte 5 chiffres."))
        return code


class InviteForm(forms.Form):
    email = AddressField(label=_("Adresse électronique de la personne à inviter"))


class CertifyForm(forms.Form):
    certified = forms.BooleanField(
        label=_(
            "Je certifie l'exactitude des informations fournies et je suis habilité(e) à déposer "
            "ce dossier au nom de la structure."
        ),
        error_messages={"required": _("Cochez la case de certification pour déposer le dossier.")},
    )


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label=_("Pourquoi retirez-vous le dossier ? (facultatif)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Fichier"),
        error_messages={"required": _("Choisissez un fichier à envoyer.")},
    )


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Votre message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Écrivez votre message.")},
    )
    attachment = forms.FileField(
        label=_("Pièce jointe (facultative)"),
        required=False,
        help_text=_("Un fichier PDF, DOCX, ODT, XLSX ou ODS de 10 Mo au plus."),
    )


class BulkMessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message aux candidats des dossiers cochés"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Posté sur chaque dossier et envoyé par courriel à ses membres."),
    )


class PaperCopyForm(forms.ModelForm):
    received_time = forms.TimeField(
        label=_("Heure de remise (dépôt en main propre)"), required=False, widget=TimeInput()
    )

    class Meta:
        model = PaperCopy
        fields = [
            "method",
            "postmarked_on",
            "received_on",
            "hand_receipt_number",
            "identical",
            "note",
        ]
        widgets = {
            "postmarked_on": DateInput(),
            "received_on": DateInput(),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A correction keeps the earlier version in the history, with its reason.
            self.fields["reason"] = forms.CharField(
                label=_("Motif de la correction"),
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_("Gardé dans l'historique de l'exemplaire papier."),
            )
        if self.instance.pk and self.instance.received_at:
            self.fields["received_time"].initial = timezone.localtime(
                self.instance.received_at
            ).time()

    def clean(self):
        cleaned = super().clean()
        method = cleaned.get("method")
        received_on = cleaned.get("received_on")
        if method == PaperMethod.MAIL and not cleaned.get("postmarked_on"):
            self.add_error("postmarked_on", _("Indiquez la date du cachet de la Poste."))
        if method == PaperMethod.HAND:
            if not cleaned.get("hand_receipt_number"):
                self.add_error("hand_receipt_number", _("Indiquez le numéro du récépissé remis."))
            if not cleaned.get("received_time"):
                self.add_error("received_time", _("Indiquez l'heure de remise."))
            elif received_on:
                try:
                    cleaned["received_at"] = local_datetime(received_on, cleaned["received_time"])
                except NonexistentLocalTime:
                    self.add_error("received_time", DEADLINE_TIME_INVALID)
        postmarked_on = cleaned.get("postmarked_on")
        if postmarked_on and received_on and postmarked_on > received_on:
            self.add_error(
                "postmarked_on", _("Le cachet de la Poste ne peut pas suivre la réception.")
            )
        return cleaned


class ReadChoiceIterator(forms.models.ModelChoiceIterator):
    """The choices of rows already read (the field's ``rows``, a prefetched
    ``call.required_documents``): Django's iterator reads them again through a server-side
    cursor, as many times as they are looked at."""

    def __iter__(self):
        if self.field.rows is None:
            yield from super().__iter__()
            return
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.rows:
            yield self.choice(obj)

    def __len__(self):
        if self.field.rows is None:
            return super().__len__()
        return len(self.field.rows) + (1 if self.field.empty_label is not None else 0)

    def __bool__(self):
        if self.field.rows is None:
            return super().__bool__()
        return self.field.empty_label is not None or bool(self.field.rows)


class ReadModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Validated against its queryset, shown from ``rows`` when they were read already."""

    iterator = ReadChoiceIterator
    rows = None


class PieceRequestForm(forms.Form):
    required_documents = ReadModelMultipleChoiceField(
        label=_("Pièces à fournir"),
        queryset=RequiredDocument.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    message = forms.CharField(
        label=_("Message au candidat"), widget=forms.Textarea(attrs={"rows": 3})
    )
    due_date = forms.DateField(label=_("À fournir avant le"), widget=DateInput())
    due_time = forms.TimeField(
        label=_("Heure (heure de Paris)"), initial=dt.time(17, 0), widget=TimeInput()
    )

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        documents = call.required_documents.all()
        field = self.fields["required_documents"]
        field.queryset = documents
        if documents._result_cache is not None:  # prefetched (the dossier's page)
            field.rows = list(documents)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("due_date") and cleaned.get("due_time"):
            try:
                cleaned["due_at"] = local_datetime(cleaned["due_date"], cleaned["due_time"])
            except NonexistentLocalTime:
                self.add_error("due_time", DEADLINE_TIME_INVALID)
        return cleaned


class AnnouncementForm(forms.Form):
    audience = forms.ChoiceField(label=_("Destinataires"), widget=forms.RadioSelect)
    subject = forms.CharField(label=_("Objet"), max_length=200)
    body = forms.CharField(
        label=_("Message"), max_length=10000, widget=forms.Textarea(attrs={"rows": 8})
    )
    # Made when the form is first shown: a double click posts it twice, and sends once.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, audiences, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["audience"].choices = [(item.key, item.label) for item in audiences]

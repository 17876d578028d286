from django import forms
from django.utils.translation import gettext_lazy as _

from aap.forms import DateInput


class VisaForm(forms.Form):
    """The archives' visa, copied from the bordereau that came back signed."""

    visa_date = forms.DateField(label=_("Date du visa"), widget=DateInput())
    reference = forms.CharField(label=_("Référence du visa"), max_length=100)
    signatory_name = forms.CharField(label=_("Nom du signataire"), max_length=200)
    signatory_title = forms.CharField(
        label=_("Qualité du signataire"),
        max_length=200,
        help_text=_("Par exemple : directeur des archives départementales."),
    )


class RefusalForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du refus de visa"), widget=forms.Textarea(attrs={"rows": 3})
    )

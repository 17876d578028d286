"""The form of « Dupliquer » (``aap.copying``)."""

import datetime as dt

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from aap.forms import DateInput, DeadlineFieldsMixin, TimeInput
from core.dates import local_datetime

SHIFT, NEW_DATES = "shift", "new"


class CopyCallForm(DeadlineFieldsMixin, forms.Form):
    title = forms.CharField(label=_("Intitulé du nouvel appel à projets"), max_length=250)
    reference = forms.CharField(
        label=_("Référence"),
        max_length=40,
        help_text=_("Préfixe des numéros d'accusé de réception, par exemple AAP-2025-FCS."),
    )
    dates = forms.ChoiceField(
        label=_("Dates"),
        choices=[
            (SHIFT, _("Décaler toutes les dates du même nombre de mois")),
            (NEW_DATES, _("Indiquer de nouvelles dates")),
        ],
        initial=SHIFT,
        widget=forms.RadioSelect,
    )
    months = forms.IntegerField(
        label=_("Décalage (mois)"),
        min_value=1,
        max_value=60,
        initial=12,
        required=False,
        help_text=_("12 : même jour et même heure l'an prochain, heure de Paris."),
    )
    opens_on = forms.DateField(
        label=_("Lancement de l'appel à projets"), widget=DateInput(), required=False
    )
    deadline_date = forms.DateField(
        label=_("Date limite de réception des dossiers"), widget=DateInput(), required=False
    )
    deadline_time = forms.TimeField(
        label=_("Heure limite (heure de Paris)"),
        initial=dt.time(17, 0),
        widget=TimeInput(),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": ""}
        self.helper.layout = Layout(
            "title",
            "reference",
            "dates",
            Div("months", css_class="col-md-4"),
            Fieldset(
                _("Nouvelles dates"),
                Div(
                    Div("opens_on", css_class="col-md-4"),
                    Div("deadline_date", css_class="col-md-4"),
                    Div("deadline_time", css_class="col-md-4"),
                    css_class="row",
                ),
            ),
            Submit("submit", _("Créer le brouillon")),
        )

    def clean(self):
        cleaned = super().clean()
        cleaned["opens_at"] = cleaned["deadline"] = None
        if cleaned.get("dates") == SHIFT:
            if not cleaned.get("months"):
                self.add_error("months", _("Indiquez de combien de mois décaler les dates."))
            return cleaned
        cleaned["months"] = None
        for name in ("opens_on", "deadline_date", "deadline_time"):
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, _("Indiquez cette date pour le nouvel appel à projets."))
        deadline = self.clean_deadline_parts()
        if deadline is not None and cleaned.get("opens_on"):
            cleaned["opens_at"] = local_datetime(cleaned["opens_on"], dt.time(0, 0))
            cleaned["deadline"] = deadline
        return cleaned

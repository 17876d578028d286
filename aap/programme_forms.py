"""The form of a programme (``aap.programmes``)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aap.models import Programme


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = Programme
        fields = ["name", "short_name", "description", "start_year", "end_year"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "short_name": {"unique": _("Un programme avec ce sigle existe déjà.")},
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_year"), cleaned.get("end_year")
        if start and end and end < start:
            self.add_error("end_year", _("L'année de fin suit l'année de début."))
        return cleaned

"""The form of « Classer sans suite » (``aap.abandon``)."""

from django import forms
from django.utils.translation import gettext_lazy as _


class AbandonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif du classement sans suite"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Publié sur la page de l'appel à projets et adressé par courriel à chaque "
            "structure qui a un dossier, en brouillon ou déposé."
        ),
    )

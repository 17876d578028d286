"""Forms of the selection committee. Validation only: writes go through
``evaluation.committee``."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from aap.forms import DEADLINE_TIME_INVALID, DateInput, TimeInput
from core.dates import NonexistentLocalTime, local_datetime
from evaluation import committee
from evaluation.models import Interests, Seat


class QuorumRuleForm(forms.Form):
    min_members = forms.IntegerField(
        label=_("Membres présents au minimum"), min_value=1, max_value=50
    )
    ddets_required = forms.BooleanField(
        label=_("Un représentant de la DDETS doit être présent"), required=False
    )
    interested_excluded = forms.BooleanField(
        label=_(
            "Un membre ayant un lien d'intérêts avec un dossier ne compte pas dans le quorum "
            "de ce dossier"
        ),
        required=False,
    )


class MeetingForm(forms.Form):
    day = forms.DateField(label=_("Date de la séance"), widget=DateInput())
    time = forms.TimeField(
        label=_("Heure (heure de Paris)"), initial=dt.time(14, 0), widget=TimeInput()
    )
    place = forms.CharField(label=_("Lieu"), max_length=250)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("day") and cleaned.get("time"):
            try:
                cleaned["starts_at"] = local_datetime(cleaned["day"], cleaned["time"])
            except NonexistentLocalTime:
                self.add_error("time", DEADLINE_TIME_INVALID)
        return cleaned


class MemberForm(forms.Form):
    name = forms.CharField(label=_("Nom et prénom"), max_length=200)
    organisation = forms.CharField(label=_("Organisme"), max_length=200)
    role = forms.CharField(label=_("Fonction"), max_length=200)
    seat = forms.ChoiceField(
        label=_("Rôle dans la séance"), choices=Seat.choices, initial=Seat.MEMBER
    )
    is_ddets = forms.BooleanField(label=_("Représente la DDETS"), required=False)
    user = forms.ModelChoiceField(
        label=_("Compte sur la plateforme (facultatif)"),
        queryset=None,
        required=False,
        help_text=_("Un membre peut n'avoir aucun compte."),
    )
    interests = forms.ChoiceField(
        label=_("Déclaration d'intérêts"), choices=Interests.choices, widget=forms.RadioSelect
    )
    dossiers = forms.ModelMultipleChoiceField(
        label=_("Dossiers concernés par le lien"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    nature = forms.CharField(
        label=_("Nature du lien"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Par exemple : élu au conseil communautaire de l'EPCI candidat."),
    )

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = committee.member_users()
        self.fields["dossiers"].queryset = committee.member_candidates(call)
        self.fields["dossiers"].label_from_instance = lambda dossier: dossier.organisation.name

    def clean(self):
        cleaned = super().clean()
        interests = cleaned.get("interests")
        dossiers, nature = cleaned.get("dossiers"), (cleaned.get("nature") or "").strip()
        if interests == Interests.DECLARED:
            if not dossiers:
                self.add_error("dossiers", _("Cochez les dossiers concernés par le lien."))
            if not nature:
                self.add_error("nature", _("Indiquez la nature du lien."))
        elif interests == Interests.NONE and (dossiers or nature):
            self.add_error(
                "interests",
                _("Un dossier ou une nature de lien est indiqué : déclarez le lien d'intérêts."),
            )
        return cleaned

    @classmethod
    def initial_of(cls, member) -> dict:
        return {
            "name": member.name,
            "organisation": member.organisation,
            "role": member.role,
            "seat": member.seat,
            "is_ddets": member.is_ddets,
            "user": member.user_id,
            "interests": member.interests,
            "dossiers": [dossier.pk for dossier in member.interest_dossiers.all()],
            "nature": member.interest_nature,
        }

"""Statuses of a dossier and the moves between them (see ``core.workflow``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CandidatureStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Déposé")


class CandidatureAction(models.TextChoices):
    SUBMIT = "submit", _("Déposer")
    WITHDRAW = "withdraw", _("Retirer pour modifier")


CANDIDATURE_TRANSITIONS: dict[tuple[str, str], str] = {
    (CandidatureStatus.DRAFT, CandidatureAction.SUBMIT): CandidatureStatus.SUBMITTED,
    (CandidatureStatus.SUBMITTED, CandidatureAction.WITHDRAW): CandidatureStatus.DRAFT,
}

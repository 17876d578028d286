"""The statuses of a call's archive, as its build moves them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ArchiveStatus(models.TextChoices):
    QUEUED = "queued", _("En attente")
    BUILDING = "building", _("En cours de construction")
    READY = "ready", _("Prête")
    FAILED = "failed", _("Échec")
    REPLACED = "replaced", _("Remplacée par une archive plus récente")
    DISCARDED = "discarded", _("Supprimée (données éliminées)")


# A request in one of these statuses holds the call: no other build starts meanwhile.
ACTIVE = (ArchiveStatus.QUEUED, ArchiveStatus.BUILDING)

"""The roles of the platform. Each is a Django group; administrators are superusers."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CANDIDAT = "candidat", _("Candidat")
    INSTRUCTEUR = "instructeur", _("Instructeur (Service IVE)")
    EVALUATEUR = "evaluateur", _("Évaluateur")
    LECTEUR_DDETS = "lecteur DDETS", _("Lecteur DDETS")


# Roles an administrator grants; candidates sign up by themselves and get CANDIDAT.
STAFF_ROLES = (Role.INSTRUCTEUR, Role.EVALUATEUR, Role.LECTEUR_DDETS)

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models.history import Revision


class SecondFactorEvent(Revision):
    """One event of an account's second factor (core.accounts.mfa): enrolment, a recovery
    code used or renewed, a candidate turning it off, an administrator's reset. ``by`` is
    who acted (the user, or the administrator for a reset), ``user`` whose factor it is."""

    ENROLLED = "enrolled"
    RECOVERY_CODE_USED = "recovery_code_used"
    RECOVERY_CODES_RENEWED = "recovery_codes_renewed"
    DISABLED = "disabled"
    RESET = "reset"
    ACTIONS = {
        ENROLLED: _("Double authentification activée"),
        RECOVERY_CODE_USED: _("Code de secours utilisé"),
        RECOVERY_CODES_RENEWED: _("Nouveaux codes de secours"),
        DISABLED: _("Double authentification désactivée"),
        RESET: _("Double authentification réinitialisée par un administrateur"),
    }

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="second_factor_events",
        verbose_name=_("compte"),
    )

    class Meta(Revision.Meta):
        verbose_name = _("événement de double authentification")
        verbose_name_plural = _("historique de la double authentification")

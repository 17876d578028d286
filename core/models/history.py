from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StatusChange(models.Model):
    """One move of a status, written by the workflow engine (``core.workflow``): who, when,
    from, to, and why. Each app's history model adds the foreign key to its object and
    names its ``statuses`` and ``actions`` (the ``TextChoices`` of its ``states.py``)."""

    statuses: type[models.TextChoices]
    actions: type[models.TextChoices]

    action = models.CharField(_("action"), max_length=20)
    from_status = models.CharField(_("de"), max_length=20)
    to_status = models.CharField(_("vers"), max_length=20)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("par"),
        help_text=_("Vide quand la plateforme agit seule (clôture à la date limite, rappel)."),
    )
    at = models.DateTimeField(_("le"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]
        verbose_name = _("changement de statut")
        verbose_name_plural = _("historique des statuts")

    def __str__(self):
        return f"{self.from_label} → {self.to_label}"

    @staticmethod
    def _label(choices, value: str) -> str:
        try:
            return str(choices(value).label)
        except ValueError:
            return value

    @property
    def action_label(self) -> str:
        return self._label(self.actions, self.action)

    @property
    def from_label(self) -> str:
        return self._label(self.statuses, self.from_status)

    @property
    def to_label(self) -> str:
        return self._label(self.statuses, self.to_status)

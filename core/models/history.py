import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _

from core.dates import format_datetime


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


class Revision(models.Model):
    """One recorded change of a record that has no status (a decision's amount, a paper
    copy, a request for pieces, an opinion): who, when, why, and the values before and
    after, as JSON that ``snapshot`` wrote. Each app's model adds the foreign key to its
    object; rows are only ever added (``save`` refuses to change one, ``delete`` too)."""

    action = models.CharField(_("action"), max_length=30)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("par"),
    )
    at = models.DateTimeField(_("le"), default=timezone.now)
    before = models.JSONField(_("avant"), null=True, blank=True)
    after = models.JSONField(_("après"), null=True, blank=True)
    note = models.TextField(_("motif"), blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "pk"]
        verbose_name = _("modification")
        verbose_name_plural = _("historique des modifications")

    # action → its French label, set by each concrete model.
    ACTIONS: dict = {}

    def __str__(self):
        return f"{self.action} – {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A history row is never changed.")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("A history row is never deleted.")

    @property
    def action_label(self) -> str:
        return str(self.ACTIONS.get(self.action, self.action))

    def changes(self) -> list[tuple[str, object, object]]:
        """(field's label, before, after) for each value that differs."""
        before, after = self.before or {}, self.after or {}
        return [
            (name, before.get(name), after.get(name))
            for name in dict.fromkeys([*before, *after])
            if before.get(name) != after.get(name)
        ]


def snapshot(instance, fields: list[str]) -> dict:
    """The values of ``fields`` as text a person reads in a history: choices by their
    label, amounts and dates as strings, related objects by their name."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        label = str(field.verbose_name)
        if field.many_to_many:
            value = (
                ", ".join(str(item) for item in getattr(instance, name).all())
                if instance.pk
                else ""
            )
        elif field.choices:
            value = getattr(instance, f"get_{name}_display")()
        else:
            value = getattr(instance, name)
        values[label] = _as_text(value)
    return values


def _as_text(value) -> str | None:
    """Dates in French on the Paris clock, amounts with a decimal comma."""
    if value is None or value == "":
        return None if value is None else ""
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return date_format(value, "DATE_FORMAT")
    if isinstance(value, Decimal):
        return number_format(value, use_l10n=True, force_grouping=True)
    return str(value)

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from aap.models.calls import Call

days_list = RegexValidator(
    r"^\s*\d{1,3}(\s*,\s*\d{1,3})*\s*$",
    _("Indiquez des nombres de jours séparés par des virgules, par exemple « 7, 2, 0 »."),
)


class ReminderSetting(models.Model):
    """One offset of a call's reminders, when it differs from the kind's default: each
    kind of reminder declares its offsets and their defaults beside its code
    (``core.reminders.Setting``), none of them lives here as a column."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="reminder_settings")
    name = models.CharField(_("réglage"), max_length=50)
    days = models.CharField(_("jours"), max_length=50, validators=[days_list])

    class Meta:
        verbose_name = _("réglage des rappels")
        verbose_name_plural = _("réglages des rappels")
        constraints = [
            models.UniqueConstraint(fields=["call", "name"], name="one_reminder_setting_per_name")
        ]

    def __str__(self):
        return f"{self.call_id} {self.name} : {self.days}"

    @staticmethod
    def parse(value: str) -> list[int]:
        """ "7, 2, 0" → [7, 2, 0], the largest first, each once."""
        return sorted({int(part) for part in value.split(",") if part.strip()}, reverse=True)

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from aap.models.calls import Call

days_list = RegexValidator(
    r"^\s*\d{1,3}(\s*,\s*\d{1,3})*\s*$",
    _("Indiquez des nombres de jours séparés par des virgules, par exemple « 7, 2, 0 »."),
)


class ReminderSettings(models.Model):
    """When each reminder of a call goes out; the defaults suit most calls."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="reminder_settings")
    draft_days = models.CharField(
        _("dossiers en brouillon : jours avant la date limite"),
        max_length=50,
        default="7, 2, 0",
        validators=[days_list],
        help_text=_("0 : le matin du jour de la date limite."),
    )
    paper_copy_days = models.PositiveSmallIntegerField(
        _("exemplaire papier non reçu : jours après la date limite"), default=5
    )
    piece_request_days = models.CharField(
        _("pièces demandées : jours avant l'échéance"),
        max_length=50,
        default="3, 1",
        validators=[days_list],
    )
    evaluation_days = models.CharField(
        _("évaluations : jours avant la date de rendu"),
        max_length=50,
        default="7, 2",
        validators=[days_list],
    )
    unsigned_days = models.PositiveSmallIntegerField(
        _("convention non signée : jours après sa préparation"), default=30
    )
    instalment_days = models.PositiveSmallIntegerField(
        _("versements : jours avant l'échéance"), default=10
    )
    review_days = models.CharField(
        _("points d'étape : jours avant"), max_length=50, default="7, 1", validators=[days_list]
    )
    report_days = models.CharField(
        _("bilans : jours avant l'échéance"), max_length=50, default="15, 3", validators=[days_list]
    )
    report_overdue_days = models.CharField(
        _("bilans en retard : jours après l'échéance"),
        max_length=50,
        default="1, 15",
        validators=[days_list],
    )

    class Meta:
        verbose_name = _("réglages des rappels")
        verbose_name_plural = _("réglages des rappels")

    def __str__(self):
        return f"Rappels {self.call.reference}"

    @staticmethod
    def days(value: str) -> list[int]:
        return sorted({int(part) for part in value.split(",") if part.strip()}, reverse=True)

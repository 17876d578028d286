import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aap.models.calls import Call
from aap.models.mail import OutgoingEmail

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


class ReminderQuerySet(models.QuerySet):
    def sent_to(self, user):
        return self.filter(recipient=user)


class Reminder(models.Model):
    """One reminder to one person about one thing at one milestone: sent once.

    ``key`` (kind, object, recipient, milestone) is unique; the e-mail is an outbox row
    with the same key, claimed by a conditional update when it is sent.
    """

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(_("rappel"), max_length=50)
    milestone = models.CharField(_("échéance"), max_length=50)
    call = models.ForeignKey(
        Call, on_delete=models.CASCADE, null=True, blank=True, related_name="reminders"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders"
    )
    subject = models.CharField(_("objet"), max_length=300)
    email = models.OneToOneField(
        OutgoingEmail, on_delete=models.SET_NULL, null=True, related_name="reminder"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        verbose_name = _("rappel")
        verbose_name_plural = _("rappels")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="reminder_recipient_recent")
        ]

    def __str__(self):
        return self.key


def calendar_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(models.Model):
    """A private address for a user's calendar (iCalendar), which they may revoke."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=calendar_token)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("agenda iCalendar")
        verbose_name_plural = _("agendas iCalendar")

    def __str__(self):
        return f"Agenda de {self.user}"

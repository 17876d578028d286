import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models.mail import OutgoingEmail


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
    # What it is grouped under, for the pages that list reminders (a call: "call:12"),
    # and how that reads: the kernel knows no call.
    scope = models.CharField(_("groupe"), max_length=60, blank=True, db_index=True)
    scope_label = models.CharField(_("à propos de"), max_length=200, blank=True)
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

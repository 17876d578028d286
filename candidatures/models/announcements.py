from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aap.models import Call
from core.exceptions import DomainError


class AnnouncementFrozen(DomainError):
    """An announcement left: it is never changed nor deleted."""


class Announcement(models.Model):
    """A message from the Service IVE to everyone concerned by a call (an audience of
    ``candidatures.announcements``), sent through the outbox, one e-mail per address.

    Once stored it is the record of what was sent, to whom and when: never changed."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="announcements")
    audience = models.CharField(_("destinataires"), max_length=40)
    subject = models.CharField(_("objet"), max_length=200)
    body = models.TextField(_("message"), max_length=10000)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(_("envoyée le"), default=timezone.now)
    recipient_count = models.PositiveIntegerField(_("nombre de destinataires"))
    # The form's: a double click posts the same token, and sends nothing twice.
    token = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = _("annonce")
        verbose_name_plural = _("annonces")
        ordering = ["-sent_at", "-pk"]

    def __str__(self):
        return self.subject

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AnnouncementFrozen(_("Une annonce envoyée ne change plus."))
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AnnouncementFrozen(_("Une annonce envoyée ne se supprime pas."))


class AnnouncementRecipient(models.Model):
    """One address an announcement went to, and the outbox row that carries it (whose
    status says whether it left)."""

    announcement = models.ForeignKey(
        Announcement, on_delete=models.PROTECT, related_name="recipients"
    )
    address = models.CharField(_("adresse"), max_length=254)
    email = models.ForeignKey(
        "core.OutgoingEmail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("courriel"),
    )

    class Meta:
        verbose_name = _("destinataire d'une annonce")
        verbose_name_plural = _("destinataires d'une annonce")
        ordering = ["address"]
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "address"], name="announcement_recipient_unique"
            )
        ]

    def __str__(self):
        return self.address

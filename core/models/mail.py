from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("En attente")
    SENDING = "sending", _("En cours d'envoi")
    SENT = "sent", _("Envoyé")
    # A reminder checked again when it was about to leave, and no longer true.
    DROPPED = "dropped", _("Abandonné, devenu sans objet")


class OutgoingEmail(models.Model):
    """An e-mail to send: written in the same transaction as the change it reports.

    A Celery task sends it after commit; when the broker is down the row waits and
    a periodic sweep queues it again, so no message is lost. ``key`` makes a message
    unique (a reminder, a receipt): writing it twice stores it once.
    """

    key = models.CharField(_("clé"), max_length=200, unique=True, null=True, blank=True)
    template = models.CharField(_("modèle"), max_length=100)
    to = models.JSONField(_("destinataires"))
    subject = models.CharField(_("objet"), max_length=300)
    body_text = models.TextField(_("texte"))
    body_html = models.TextField(_("HTML"), blank=True)
    attachments = models.JSONField(
        _("pièces jointes"),
        default=list,
        blank=True,
        help_text=_("Fichiers du stockage privé : nom, chemin et type."),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        verbose_name=_("destinataire"),
    )
    status = models.CharField(
        _("statut"),
        max_length=10,
        choices=EmailStatus.choices,
        default=EmailStatus.PENDING,
        editable=False,
    )
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    claimed_at = models.DateTimeField(_("pris en charge le"), null=True, blank=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("courriel")
        verbose_name_plural = _("courriels")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="email_status_created")]

    def __str__(self):
        return self.subject

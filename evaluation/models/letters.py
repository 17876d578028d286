"""The letters that notify a decision, or its rectification, to a candidate.

A letter is an act: drafted (its free paragraphs), queued once staff confirm, then
rendered, stored with its SHA-256 and e-mailed by a Celery task. Once it has left,
nothing in it changes, whichever path writes (services, admin, shell)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from candidatures.models import Candidature
from core.elimination import under_visa
from core.exceptions import DomainError
from evaluation.states import LetterKind, LetterStatus


class LetterFrozen(DomainError):
    """The letter was confirmed or sent: it no longer changes."""


class NotificationLetter(models.Model):
    candidature = models.ForeignKey(
        Candidature, on_delete=models.CASCADE, related_name="notification_letters"
    )
    kind = models.CharField(
        _("lettre"),
        max_length=20,
        choices=LetterKind.choices,
        default=LetterKind.DECISION,
        editable=False,
    )
    rectification = models.OneToOneField(
        "evaluation.DecisionRectification",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="letter",
    )
    admissibility_rectification = models.OneToOneField(
        "evaluation.AdmissibilityRectification",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="letter",
    )
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=LetterStatus.choices,
        default=LetterStatus.DRAFT,
        editable=False,
    )
    opening = models.TextField(
        _("paragraphe d'ouverture"),
        blank=True,
        help_text=_("Avant la décision. Vide : le texte habituel de la lettre."),
    )
    closing = models.TextField(
        _("paragraphe de conclusion"),
        blank=True,
        help_text=_("Après la décision, avant les voies et délais de recours."),
    )
    pdf = models.FileField(upload_to="notifications/", max_length=200, blank=True, editable=False)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, blank=True, editable=False)
    email = models.ForeignKey(
        "core.OutgoingEmail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("courriel"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(_("créée le"), default=timezone.now, editable=False)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("envoi confirmé par"),
    )
    queued_at = models.DateTimeField(_("envoi confirmé le"), null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("lettre de notification")
        verbose_name_plural = _("lettres de notification")
        ordering = ["candidature_id", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidature"],
                condition=Q(kind=LetterKind.DECISION),
                name="one_decision_letter_per_dossier",
            ),
            # A rectification letter names its act: a decision's, or an inadmissibility's.
            models.CheckConstraint(
                condition=Q(
                    kind=LetterKind.DECISION,
                    rectification__isnull=True,
                    admissibility_rectification__isnull=True,
                )
                | Q(
                    kind=LetterKind.RECTIFICATION,
                    rectification__isnull=False,
                    admissibility_rectification__isnull=True,
                )
                | Q(
                    kind=LetterKind.RECTIFICATION,
                    rectification__isnull=True,
                    admissibility_rectification__isnull=False,
                ),
                name="rectification_letter_names_its_act",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} – {self.candidature}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = (
                type(self)
                .objects.filter(pk=self.pk)
                .values("status", "opening", "closing", "pdf", "sha256")
                .first()
            )
            if stored is not None:
                self._refuse_change(stored)
        return super().save(*args, **kwargs)

    def _refuse_change(self, stored: dict) -> None:
        if stored["status"] == LetterStatus.DRAFT:
            return
        # Under the archives' visa, the elimination clears the file and the paragraphs; the
        # status and the fingerprint of what was sent stay (core.elimination).
        if (
            under_visa(self.candidature_id)
            and self.status == stored["status"]
            and self.sha256 == stored["sha256"]
        ):
            return
        texts = (self.opening, self.closing) != (stored["opening"], stored["closing"])
        sent = stored["status"] == LetterStatus.SENT and (
            self.status != stored["status"]
            or (self.pdf.name or "") != stored["pdf"]
            or self.sha256 != stored["sha256"]
        )
        if texts or sent:
            raise LetterFrozen(
                gettext_now(
                    "Cette lettre est partie (ou son envoi est confirmé) : elle ne change plus. "
                    "Une décision notifiée se corrige par une rectification, qui envoie une "
                    "nouvelle lettre."
                )
            )

    def delete(self, *args, **kwargs):
        status = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
        if status not in (None, LetterStatus.DRAFT):
            raise LetterFrozen(gettext_now("Une lettre confirmée ou envoyée ne se supprime pas."))
        return super().delete(*args, **kwargs)

    @property
    def filename(self) -> str:
        # The same name in the e-mail and in the candidate's space; a dossier has one
        # decision letter, and may have several rectifications.
        reference = self.candidature.call.reference
        if self.kind == LetterKind.DECISION:
            return f"Notification-{reference}.pdf"
        return f"Rectification-{reference}-{self.pk}.pdf"

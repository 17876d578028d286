import uuid

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aap.models import Call, Lot, Question, RequiredDocument
from candidatures.models.organisations import Organisation
from candidatures.states import CandidatureAction, CandidatureStatus
from core.elimination import under_visa
from core.models.history import StatusChange


class CandidatureLocked(Exception):
    """A submitted dossier (or a closed call) refuses any change of its content."""

    message = _(
        "Ce dossier est déposé : il ne peut plus être modifié. Pour le modifier avant la date "
        "limite, retirez-le d'abord."
    )


class CandidatureQuerySet(models.QuerySet):
    def of_member(self, user):
        """Dossiers of the organisations ``user`` belongs to: a candidate sees nothing else."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(organisation__memberships__user=user)

    def submitted(self):
        return self.filter(status=CandidatureStatus.SUBMITTED)


class Candidature(models.Model):
    """One organisation's dossier for one call."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="candidatures")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="candidatures"
    )
    lots = models.ManyToManyField(Lot, blank=True, related_name="candidatures")
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=CandidatureStatus.choices,
        default=CandidatureStatus.DRAFT,
        editable=False,
    )
    submitted_at = models.DateTimeField(_("déposé le"), null=True, blank=True)
    requested_amount = models.DecimalField(
        _("montant sollicité (€)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Lu dans la réponse à la question « montant sollicité » du formulaire."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    objects = CandidatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("dossier de candidature")
        verbose_name_plural = _("dossiers de candidature")
        ordering = ["call_id", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "organisation"], name="one_candidature_per_call_and_organisation"
            ),
            models.CheckConstraint(
                condition=~Q(status=CandidatureStatus.SUBMITTED) | Q(submitted_at__isnull=False),
                name="submitted_candidature_has_a_date",
            ),
        ]

    def __str__(self):
        return f"{self.organisation} – {self.call.reference}"

    @property
    def is_draft(self) -> bool:
        return self.status == CandidatureStatus.DRAFT


class CandidatureStatusChange(StatusChange):
    candidature = models.ForeignKey(
        Candidature, on_delete=models.CASCADE, related_name="status_changes"
    )
    statuses, actions = CandidatureStatus, CandidatureAction

    class Meta(StatusChange.Meta):
        verbose_name = _("changement de statut du dossier")
        verbose_name_plural = _("historique des dossiers")


class LockedContentMixin:
    """Answers and documents of a dossier change only through ``can_change_content``.

    The rule is enforced here, in the model layer, and again in the services: a view
    that forgot to check still cannot change a submitted dossier.
    """

    def _check_unlocked(self):
        from candidatures.rules import content_is_open

        # The archives' visa lets the elimination clear the dossier (core.elimination).
        if under_visa(self.candidature_id):
            return
        if not content_is_open(self.candidature, self.lock_scope()):
            raise CandidatureLocked(CandidatureLocked.message)

    def lock_scope(self):
        return None

    def save(self, *args, **kwargs):
        self._check_unlocked()
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self._check_unlocked()
        return super().delete(*args, **kwargs)


class Answer(LockedContentMixin, models.Model):
    candidature = models.ForeignKey(Candidature, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.JSONField(_("réponse"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("réponse")
        verbose_name_plural = _("réponses")
        constraints = [
            models.UniqueConstraint(
                fields=["candidature", "question"], name="one_answer_per_question"
            )
        ]

    def __str__(self):
        return f"{self.question}: {self.value}"


def document_upload_to(instance, filename):
    # Random names in private storage: the original name lives in ``original_name``.
    return f"dossiers/{instance.candidature.call_id}/{uuid.uuid4().hex}"


class Document(LockedContentMixin, models.Model):
    """One uploaded file for one required document of a dossier."""

    candidature = models.ForeignKey(Candidature, on_delete=models.CASCADE, related_name="documents")
    required_document = models.ForeignKey(
        RequiredDocument, on_delete=models.PROTECT, related_name="uploads"
    )
    file = models.FileField(upload_to=document_upload_to, max_length=200)
    original_name = models.CharField(_("nom du fichier"), max_length=200)
    size = models.PositiveBigIntegerField(_("taille (octets)"))
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    file_format = models.CharField(_("format"), max_length=10)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("déposé le"), default=timezone.now)

    class Meta:
        verbose_name = _("pièce jointe")
        verbose_name_plural = _("pièces jointes")
        ordering = ["required_document__position", "uploaded_at", "pk"]

    def __str__(self):
        return self.original_name

    def lock_scope(self):
        return self.required_document_id

    def delete(self, *args, **kwargs):
        storage, name = self.file.storage, self.file.name
        result = super().delete(*args, **kwargs)
        # The file goes once the row is gone for good: a rolled-back replacement keeps it.
        transaction.on_commit(lambda: storage.delete(name))
        return result

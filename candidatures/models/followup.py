import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aap.models import Call, RequiredDocument
from candidatures.models.dossiers import Candidature
from core.models.history import Revision


def verification_token() -> str:
    return secrets.token_urlsafe(9)


class Receipt(models.Model):
    """The proof of a submission: what was sent, and when, to the second.

    ``manifest`` freezes everything the PDF shows (organisation, lots, each file with
    its size and SHA-256), so that the PDF can be rendered again identically at any
    time. A withdrawal marks the receipt superseded; the next submission gets a new one.
    """

    candidature = models.ForeignKey(Candidature, on_delete=models.PROTECT, related_name="receipts")
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="receipts")
    sequence = models.PositiveIntegerField()
    number = models.CharField(_("numéro"), max_length=60)
    submitted_at = models.DateTimeField(_("déposé le"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    manifest = models.JSONField(_("contenu déposé"))
    token = models.CharField(max_length=20, unique=True, default=verification_token)
    pdf = models.FileField(upload_to="accuses/", blank=True, max_length=200)
    superseded_at = models.DateTimeField(_("remplacé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("accusé de réception")
        verbose_name_plural = _("accusés de réception")
        ordering = ["call_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["call", "sequence"], name="receipt_sequence_per_call"),
            models.UniqueConstraint(fields=["call", "number"], name="receipt_number_per_call"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_current(self) -> bool:
        return self.superseded_at is None


class PaperMethod(models.TextChoices):
    MAIL = "mail", _("Courrier recommandé avec accusé de réception")
    HAND = "hand", _("Dépôt en main propre contre récépissé")


class Identical(models.TextChoices):
    UNCHECKED = "unchecked", _("Pas encore vérifié")
    YES = "yes", _("Identique à la version électronique")
    NO = "no", _("Différent de la version électronique")


class PaperCopy(models.Model):
    """How and when the paper copy of a dossier reached the Département."""

    candidature = models.OneToOneField(
        Candidature, on_delete=models.CASCADE, related_name="paper_copy"
    )
    method = models.CharField(_("mode d'envoi"), max_length=10, choices=PaperMethod.choices)
    postmarked_on = models.DateField(_("date du cachet de la Poste"), null=True, blank=True)
    received_on = models.DateField(_("date de réception"))
    received_at = models.DateTimeField(
        _("remis le (date et heure)"),
        null=True,
        blank=True,
        help_text=_("Pour un dépôt en main propre."),
    )
    hand_receipt_number = models.CharField(
        _("numéro du récépissé remis"), max_length=60, blank=True
    )
    identical = models.CharField(
        _("conformité"), max_length=10, choices=Identical.choices, default=Identical.UNCHECKED
    )
    note = models.TextField(_("observations"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("exemplaire papier")
        verbose_name_plural = _("exemplaires papier")

    def __str__(self):
        return f"{self.candidature} – {self.get_method_display()}"


class PaperCopyRevision(Revision):
    """Each recording and correction of a paper copy, with what changed and why."""

    paper_copy = models.ForeignKey(PaperCopy, on_delete=models.CASCADE, related_name="revisions")

    ACTIONS = {"recorded": _("Réception enregistrée"), "corrected": _("Réception corrigée")}

    class Meta(Revision.Meta):
        verbose_name = _("modification de l'exemplaire papier")
        verbose_name_plural = _("historique de l'exemplaire papier")


def message_upload_to(instance, filename):
    # Random names in private storage: the original name lives in ``attachment_name``.
    return f"messages/{instance.candidature.call_id}/{uuid.uuid4().hex}"


class Message(models.Model):
    """A message on a dossier, between the candidate and the Service IVE, with at most
    one attached file (checked like every upload, downloaded through a view)."""

    candidature = models.ForeignKey(Candidature, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_staff = models.BooleanField(default=False)
    body = models.TextField(_("message"), max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)
    attachment = models.FileField(
        _("pièce jointe"), upload_to=message_upload_to, max_length=200, blank=True
    )
    attachment_name = models.CharField(_("nom du fichier joint"), max_length=200, blank=True)
    attachment_size = models.PositiveBigIntegerField(_("taille (octets)"), null=True, blank=True)
    attachment_sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["candidature_id", "created_at", "pk"]

    def __str__(self):
        return self.body[:60]


class PieceRequestQuerySet(models.QuerySet):
    def open_at(self, when=None):
        when = when or timezone.now()
        return self.filter(closed_at__isnull=True, due_at__gt=when)


class PieceRequest(models.Model):
    """Staff ask for missing pieces: only those reopen, until the due date."""

    candidature = models.ForeignKey(
        Candidature, on_delete=models.CASCADE, related_name="piece_requests"
    )
    required_documents = models.ManyToManyField(
        RequiredDocument, related_name="piece_requests", verbose_name=_("pièces demandées")
    )
    message = models.TextField(_("message au candidat"))
    due_at = models.DateTimeField(_("à fournir avant le"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(_("close le"), null=True, blank=True)

    objects = PieceRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("demande de pièces")
        verbose_name_plural = _("demandes de pièces")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.candidature} – {self.due_at:%d/%m/%Y}"


class PieceRequestRevision(Revision):
    """A request for pieces made, then closed: by whom and when."""

    piece_request = models.ForeignKey(
        PieceRequest, on_delete=models.CASCADE, related_name="revisions"
    )

    ACTIONS = {"requested": _("Demande envoyée"), "closed": _("Demande close")}

    class Meta(Revision.Meta):
        verbose_name = _("suivi de la demande de pièces")
        verbose_name_plural = _("historique de la demande de pièces")


class Reading(models.Model):
    """A DDETS reader opened a dossier, a file or its evaluations: each view is logged."""

    candidature = models.ForeignKey(Candidature, on_delete=models.CASCADE, related_name="readings")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(_("consulté"), max_length=200)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.reader} – {self.candidature} – {self.what}"

"""A request for a call's archive: who asked and when, how far the build has gone, and
the ZIP it made (its size and SHA-256), or why it failed, in French."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aap.models import Call
from archives.states import ACTIVE, ArchiveStatus


class CallArchive(models.Model):
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="archives")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("demandée par"),
    )
    requested_at = models.DateTimeField(_("demandée le"), default=timezone.now)
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=ArchiveStatus.choices,
        default=ArchiveStatus.QUEUED,
        editable=False,
    )
    started_at = models.DateTimeField(_("commencée le"), null=True, blank=True)
    # Moved at each dossier: a build whose progress stops for long was interrupted.
    progressed_at = models.DateTimeField(_("dernière progression"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    dossiers_total = models.PositiveIntegerField(_("dossiers à archiver"), default=0)
    dossiers_done = models.PositiveIntegerField(_("dossiers archivés"), default=0)
    file = models.FileField(upload_to="archives/", blank=True, max_length=200)
    size = models.PositiveBigIntegerField(_("taille (octets)"), null=True, blank=True)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64, blank=True)
    error = models.TextField(_("erreur"), blank=True)

    class Meta:
        verbose_name = _("archive d'un appel à projets")
        verbose_name_plural = _("archives des appels à projets")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # A second click while one is building starts nothing (also checked by the
            # service under a lock of the call's row, with a French message).
            models.UniqueConstraint(
                fields=["call"],
                condition=Q(status__in=ACTIVE),
                name="one_active_archive_per_call",
            ),
            models.CheckConstraint(
                condition=Q(dossiers_done__lte=models.F("dossiers_total")),
                name="archive_progress_within_total",
            ),
        ]

    def __str__(self):
        return f"{self.call.reference} – {self.requested_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE

    @property
    def percent(self) -> int:
        if not self.dossiers_total:
            return 100 if self.status == ArchiveStatus.READY else 0
        return round(100 * self.dossiers_done / self.dossiers_total)

    @property
    def filename(self) -> str:
        return (
            f"Archive-{self.call.reference}-{timezone.localtime(self.requested_at):%Y%m%d-%H%M}.zip"
        )

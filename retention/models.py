"""The bordereau d'élimination, its items, the trace of what was eliminated, and the
warnings sent to inactive accounts.

A bordereau is an act sent to the public archives: once sent, its items no longer change
(``BordereauItem.save``), and its visa, once recorded, neither (``Bordereau.save``). The
admin shows these models read-only; every write goes through ``retention.services``."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from aap.models import Call
from candidatures.models import Candidature, Reading
from core.exceptions import DomainError
from core.models import OutgoingEmail
from core.models.history import StatusChange
from retention.states import (
    BordereauAction,
    BordereauStatus,
    Category,
)

VISA_FIELDS = ("visa_date", "visa_reference", "visa_signatory_name", "visa_signatory_title")


class BordereauFrozen(DomainError):
    """The bordereau was sent to the archives: its list, and then its visa, hold."""


class Bordereau(models.Model):
    """A list of what is due for elimination, sent to the archives for their visa."""

    number = models.CharField(
        _("numéro"), max_length=30, unique=True, null=True, blank=True, editable=False
    )
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=BordereauStatus.choices,
        default=BordereauStatus.DRAFT,
        editable=False,
    )
    listed_on = models.DateField(_("liste arrêtée au"))
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    updated_at = models.DateTimeField(_("mis à jour le"), default=timezone.now)
    sent_at = models.DateTimeField(_("envoyé aux archives le"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("envoyé par"),
    )
    visa_date = models.DateField(_("date du visa"), null=True, blank=True)
    visa_reference = models.CharField(_("référence du visa"), max_length=100, blank=True)
    visa_signatory_name = models.CharField(_("signataire du visa"), max_length=200, blank=True)
    visa_signatory_title = models.CharField(_("qualité du signataire"), max_length=200, blank=True)
    visa_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("visa enregistré par"),
    )
    visa_recorded_at = models.DateTimeField(_("visa enregistré le"), null=True, blank=True)
    refusal_reason = models.TextField(_("motif du refus de visa"), blank=True)
    relisted_at = models.DateTimeField(
        _("éléments remis dans la liste le"),
        null=True,
        blank=True,
        help_text=_("Après un refus : les éléments redeviennent à éliminer."),
    )
    eliminated_at = models.DateTimeField(_("élimination exécutée le"), null=True, blank=True)
    trace = models.JSONField(
        _("trace de l'élimination"),
        default=dict,
        blank=True,
        help_text=_("Par catégorie : éléments, fichiers et octets éliminés."),
    )

    class Meta:
        verbose_name = _("bordereau d'élimination")
        verbose_name_plural = _("bordereaux d'élimination")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status=BordereauStatus.DRAFT),
                name="one_draft_bordereau",
            ),
            models.CheckConstraint(
                condition=Q(status=BordereauStatus.DRAFT) | Q(number__isnull=False),
                name="sent_bordereau_has_a_number",
            ),
            models.CheckConstraint(
                condition=~Q(
                    status__in=[
                        BordereauStatus.APPROVED,
                        BordereauStatus.ELIMINATING,
                        BordereauStatus.DONE,
                    ]
                )
                | (
                    Q(visa_date__isnull=False)
                    & ~Q(visa_reference="")
                    & ~Q(visa_signatory_name="")
                    & Q(visa_recorded_by__isnull=False)
                ),
                name="eliminated_bordereau_has_a_visa",
            ),
        ]

    def __str__(self):
        return self.number or gettext_now("Bordereau en préparation")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values("status", *VISA_FIELDS).first()
            if (
                stored is not None
                and stored["status"] != BordereauStatus.SENT
                and stored["visa_date"] is not None
                and any(getattr(self, name) != stored[name] for name in VISA_FIELDS)
            ):
                raise BordereauFrozen(gettext_now("Un visa enregistré ne se modifie pas."))
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not type(self).objects.filter(pk=self.pk, status=BordereauStatus.DRAFT).exists():
            raise BordereauFrozen(
                gettext_now("Un bordereau envoyé aux archives ne se supprime pas.")
            )
        return super().delete(*args, **kwargs)

    @property
    def has_visa(self) -> bool:
        return self.visa_date is not None and self.status in (
            BordereauStatus.APPROVED,
            BordereauStatus.ELIMINATING,
            BordereauStatus.DONE,
        )


class BordereauStatusChange(StatusChange):
    bordereau = models.ForeignKey(
        Bordereau, on_delete=models.CASCADE, related_name="status_changes"
    )
    statuses, actions = BordereauStatus, BordereauAction

    class Meta(StatusChange.Meta):
        verbose_name = _("changement de statut du bordereau")
        verbose_name_plural = _("historique des bordereaux")


class BordereauItem(models.Model):
    """One thing due for elimination: a dossier (with its files and agreements), an
    account, a reading of the DDETS log or an e-mail of the outbox. Its ``label`` names
    it without personal data: it stays, as the trace, once the thing is gone."""

    # Fields the elimination fills in, on a bordereau whose items are otherwise frozen.
    TRACE_FIELDS = frozenset({"eliminated_at", "files_deleted", "bytes_deleted"})

    bordereau = models.ForeignKey(Bordereau, on_delete=models.CASCADE, related_name="items")
    category = models.CharField(_("catégorie"), max_length=20, choices=Category.choices)
    call = models.ForeignKey(
        Call, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    candidature = models.ForeignKey(
        Candidature, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reading = models.ForeignKey(
        Reading, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    email = models.ForeignKey(
        OutgoingEmail, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    label = models.CharField(_("désignation"), max_length=300)
    started_on = models.DateField(_("début de la durée de conservation"))
    due_on = models.DateField(_("fin de la durée de conservation"))
    file_count = models.PositiveIntegerField(_("fichiers"), default=0)
    volume = models.PositiveBigIntegerField(_("volume (octets)"), default=0)
    eliminated_at = models.DateTimeField(_("éliminé le"), null=True, blank=True)
    files_deleted = models.PositiveIntegerField(_("fichiers supprimés"), default=0)
    bytes_deleted = models.PositiveBigIntegerField(_("octets supprimés"), default=0)

    class Meta:
        verbose_name = _("élément du bordereau")
        verbose_name_plural = _("éléments du bordereau")
        ordering = ["bordereau_id", "category", "call_id", "label", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        category__in=[Category.NOT_SELECTED, Category.SELECTED],
                        candidature__isnull=False,
                    )
                    | Q(category=Category.INACTIVE_ACCOUNT, account__isnull=False)
                    | Q(category=Category.READING_LOG)
                    | Q(category=Category.OUTBOX)
                ),
                name="bordereau_item_names_its_object",
            ),
            models.UniqueConstraint(
                fields=["bordereau", "candidature"], name="one_item_per_dossier"
            ),
            models.UniqueConstraint(fields=["bordereau", "account"], name="one_item_per_account"),
        ]

    def __str__(self):
        return self.label

    def save(self, *args, **kwargs):
        status = Bordereau.objects.filter(pk=self.bordereau_id).values_list("status", flat=True)
        status = status.first()
        if status not in (None, BordereauStatus.DRAFT):
            update_fields = set(kwargs.get("update_fields") or ())
            if not (
                status == BordereauStatus.ELIMINATING
                and self.pk is not None
                and update_fields
                and update_fields <= self.TRACE_FIELDS
            ):
                raise BordereauFrozen(
                    gettext_now("Ce bordereau est envoyé aux archives : sa liste ne change plus.")
                )
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not Bordereau.objects.filter(
            pk=self.bordereau_id, status=BordereauStatus.DRAFT
        ).exists():
            raise BordereauFrozen(
                gettext_now("Ce bordereau est envoyé aux archives : sa liste ne change plus.")
            )
        return super().delete(*args, **kwargs)


class AccountWarning(models.Model):
    """The e-mail telling an inactive account that it will be deleted: one per period of
    inactivity (``inactive_since``); a login cancels it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="retention_warnings"
    )
    inactive_since = models.DateTimeField(_("inactif depuis"))
    due_on = models.DateField(_("suppression prévue à partir du"))
    email = models.ForeignKey(
        OutgoingEmail, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(_("averti le"), default=timezone.now)
    cancelled_at = models.DateTimeField(
        _("annulé le"), null=True, blank=True, help_text=_("Par une connexion.")
    )

    class Meta:
        verbose_name = _("avertissement de compte inactif")
        verbose_name_plural = _("avertissements de comptes inactifs")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "inactive_since"], name="one_warning_per_inactivity"
            )
        ]

    def __str__(self):
        return f"{self.user_id} – {self.due_on}"

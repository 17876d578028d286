"""The payment schedule of an agreement and its avenants (amendments)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _now
from django.utils.translation import gettext_lazy as _

from conventions.models.agreements import Convention, refuse_unless_schedule_open
from conventions.models.locks import (
    ContentLocked,
    UnsoundDate,
    changed_fields,
    refuse_before_decision,
)
from conventions.states import (
    AmendmentAction,
    AmendmentStatus,
    PaymentAction,
    PaymentCondition,
    PaymentStatus,
)
from core.models.history import StatusChange


class InstalmentTerms(models.Model):
    """What an instalment says: its label, due date, amount and the condition of its
    payment, which the platform checks (``PaymentCondition``)."""

    SCHEDULE_FIELDS = ("position", "label", "due_on", "amount", "condition", "condition_date")

    position = models.PositiveSmallIntegerField(default=1)
    label = models.CharField(_("versement"), max_length=200)
    due_on = models.DateField(_("échéance"))
    amount = models.DecimalField(
        _("montant (€)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    condition = models.CharField(
        _("condition"),
        max_length=30,
        choices=PaymentCondition.choices,
        default=PaymentCondition.SIGNATURE,
    )
    condition_date = models.DateField(
        _("date de la condition"),
        null=True,
        blank=True,
        help_text=_("Pour une condition « À partir d'une date » : le premier jour possible."),
    )

    class Meta:
        abstract = True

    @property
    def condition_label(self) -> str:
        if self.condition == PaymentCondition.DATE and self.condition_date:
            return _now("À partir du %(date)s") % {
                "date": date_format(self.condition_date, "DATE_FORMAT")
            }
        return str(PaymentCondition(self.condition).label)

    def refuse_unsound_terms(self, decision_date) -> None:
        refuse_before_decision(
            _now("L'échéance « %(label)s »") % {"label": self.label}, self.due_on, decision_date
        )
        if self.condition == PaymentCondition.DATE:
            if self.condition_date is None:
                raise UnsoundDate(_now("Indiquez la date à partir de laquelle verser."))
            refuse_before_decision(
                _now("La date de la condition de « %(label)s »") % {"label": self.label},
                self.condition_date,
                decision_date,
            )


class Payment(InstalmentTerms):
    """An instalment of the payment schedule."""

    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="payments")
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=PaymentStatus.choices,
        default=PaymentStatus.PLANNED,
        editable=False,
    )
    requested_on = models.DateField(_("demandé le"), null=True, blank=True)
    ordered_on = models.DateField(_("mandaté le"), null=True, blank=True)
    paid_on = models.DateField(_("versé le"), null=True, blank=True)
    accounting_reference = models.CharField(
        _("référence comptable (mandat)"), max_length=100, blank=True
    )

    class Meta:
        verbose_name = _("versement")
        verbose_name_plural = _("versements")
        ordering = ["convention_id", "due_on", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(condition=PaymentCondition.DATE) | Q(condition_date__isnull=False),
                name="payment_date_condition_has_a_date",
            )
        ]

    def __str__(self):
        return f"{self.label} – {self.amount} €"

    def save(self, *args, **kwargs):
        with transaction.atomic():
            update_fields = kwargs.get("update_fields")
            names = [
                name
                for name in self.SCHEDULE_FIELDS
                if update_fields is None or name in update_fields
            ]
            stored = (
                Payment.objects.filter(pk=self.pk).values(*names).first()
                if self.pk is not None
                else None
            )
            if stored is None or changed_fields(self, stored, names):
                # A new instalment or a changed one: only while the schedule is open.
                convention = refuse_unless_schedule_open(self.convention_id)
                self.refuse_unsound_terms(convention.decision_date)
            return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            refuse_unless_schedule_open(self.convention_id)
            return super().delete(*args, **kwargs)


class PaymentStatusChange(StatusChange):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="status_changes")
    statuses, actions = PaymentStatus, PaymentAction


class Amendment(models.Model):
    """An avenant: its own number, what it changes (amount, end, schedule), its PDF
    rendered once when sent and its signed scan. Its schedule replaces the instalments
    not yet requested only once it is signed."""

    CONTENT_FIELDS = (
        "number",
        "changes",
        "amount_before",
        "amount_after",
        "period_end_before",
        "period_end_after",
    )

    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="amendments")
    number = models.PositiveSmallIntegerField(_("numéro d'avenant"), editable=False)
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=AmendmentStatus.choices,
        default=AmendmentStatus.DRAFT,
        editable=False,
    )
    changes = models.TextField(_("ce qu'il modifie"))
    amount_before = models.DecimalField(max_digits=12, decimal_places=2, editable=False)
    amount_after = models.DecimalField(_("nouveau montant (€)"), max_digits=12, decimal_places=2)
    period_end_before = models.DateField(editable=False)
    period_end_after = models.DateField(_("nouvelle fin"))
    document = models.FileField(
        _("avenant envoyé (PDF)"),
        upload_to="conventions/avenants/",
        blank=True,
        max_length=200,
        editable=False,
    )
    document_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True, editable=False)
    signed_on = models.DateField(_("signé le"), null=True, blank=True)
    signed_scan = models.FileField(
        _("avenant signé (PDF)"), upload_to="conventions/avenants/", blank=True, max_length=200
    )
    signed_scan_name = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("avenant")
        verbose_name_plural = _("avenants")
        ordering = ["convention_id", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["convention", "number"], name="amendment_number_per_convention"
            )
        ]

    def __str__(self):
        return f"Avenant n° {self.number} – {self.convention.number}"

    def save(self, *args, **kwargs):
        with transaction.atomic():
            if self.pk is not None:
                stored = (
                    Amendment.objects.select_for_update()
                    .filter(pk=self.pk)
                    .values("status", *self.CONTENT_FIELDS)
                    .first()
                )
                if (
                    stored is not None
                    and stored["status"] != AmendmentStatus.DRAFT
                    and changed_fields(self, stored, self.CONTENT_FIELDS)
                ):
                    raise ContentLocked(amendment_locked_message())
            return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ContentLocked(_now("Un avenant ne se supprime pas : abandonnez-le."))

    @property
    def title(self) -> str:
        return _now("Avenant n° %(n)s") % {"n": self.number}


def amendment_locked_message() -> str:
    return _now(
        "L'avenant a été envoyé pour signature : son contenu ne change plus. Revenez à sa "
        "préparation pour le corriger avant sa signature."
    )


def refuse_unless_amendment_draft(amendment_id: int) -> Amendment:
    row = Amendment.objects.select_for_update().select_related("convention").get(pk=amendment_id)
    if row.status != AmendmentStatus.DRAFT:
        raise ContentLocked(amendment_locked_message())
    return row


class AmendmentInstalment(InstalmentTerms):
    """An instalment of the schedule an avenant sets, in place of those not yet requested."""

    amendment = models.ForeignKey(Amendment, on_delete=models.CASCADE, related_name="instalments")

    class Meta:
        verbose_name = _("versement de l'avenant")
        verbose_name_plural = _("versements de l'avenant")
        ordering = ["amendment_id", "due_on", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(condition=PaymentCondition.DATE) | Q(condition_date__isnull=False),
                name="amendment_date_condition_has_a_date",
            )
        ]

    def __str__(self):
        return f"{self.label} – {self.amount} €"

    def save(self, *args, **kwargs):
        with transaction.atomic():
            amendment = refuse_unless_amendment_draft(self.amendment_id)
            self.refuse_unsound_terms(amendment.convention.decision_date)
            return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            refuse_unless_amendment_draft(self.amendment_id)
            return super().delete(*args, **kwargs)


class AmendmentStatusChange(StatusChange):
    amendment = models.ForeignKey(
        Amendment, on_delete=models.CASCADE, related_name="status_changes"
    )
    statuses, actions = AmendmentStatus, AmendmentAction

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aap.models import Call, Lot
from candidatures.models import Candidature, Organisation
from conventions.states import (
    ConventionAction,
    ConventionStatus,
    PaymentAction,
    PaymentStatus,
    ReportKind,
)
from core.models.history import StatusChange


class FundingTerms(models.Model):
    """How a call's agreements are paid, by default: an advance at signature, the
    balance after the final report."""

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="funding_terms_set")
    advance_percent = models.DecimalField(
        _("avance à la signature (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("50"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    advance_days = models.PositiveSmallIntegerField(
        _("délai de l'avance après signature (jours)"), default=30
    )
    balance_condition = models.CharField(
        _("condition du solde"),
        max_length=250,
        default="Après réception et validation du bilan final",
    )

    class Meta:
        verbose_name = _("modalités de versement")
        verbose_name_plural = _("modalités de versement")

    def __str__(self):
        return f"{self.call.reference} : {self.advance_percent} %"


class ConventionQuerySet(models.QuerySet):
    def of_member(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(organisation__memberships__user=user)


class Convention(models.Model):
    """The partnership agreement with a selected organisation for a calendar year."""

    candidature = models.ForeignKey(
        Candidature, on_delete=models.PROTECT, related_name="conventions"
    )
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="conventions")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="conventions"
    )
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="conventions")
    number = models.CharField(_("numéro"), max_length=60, unique=True)
    year = models.PositiveSmallIntegerField(_("année civile"))
    period_start = models.DateField(_("début"))
    period_end = models.DateField(_("fin"))
    object = models.TextField(_("objet"))
    amount = models.DecimalField(
        _("montant (€)"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    fte = models.DecimalField(_("ETP"), max_digits=4, decimal_places=2)
    subsidy_share = models.DecimalField(
        _("part de la subvention dans le coût de l'action"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.0001")), MaxValueValidator(Decimal("1"))],
        help_text=_(
            "Entre 0 et 1 (1 : l'action est financée en totalité). Publiée en données ouvertes."
        ),
    )
    payment_terms = models.TextField(_("modalités de versement"))
    obligations = models.TextField(_("obligations du bénéficiaire"))
    # The parties as they sign: kept as written even if the organisation's record changes.
    beneficiary_name = models.CharField(_("bénéficiaire"), max_length=250)
    beneficiary_siret = models.CharField(_("SIRET du bénéficiaire"), max_length=14)
    representative_name = models.CharField(_("représentant légal"), max_length=200)
    representative_role = models.CharField(_("qualité"), max_length=200)
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=ConventionStatus.choices,
        default=ConventionStatus.DRAFT,
        editable=False,
    )
    signed_on = models.DateField(_("signée le"), null=True, blank=True)
    signed_scan = models.FileField(
        _("convention signée (PDF)"), upload_to="conventions/", blank=True, max_length=200
    )
    signed_scan_name = models.CharField(max_length=200, blank=True)
    termination_reason = models.TextField(_("motif de résiliation"), blank=True)
    renews = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewal",
        verbose_name=_("reconduit la convention"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = ConventionQuerySet.as_manager()

    class Meta:
        verbose_name = _("convention")
        verbose_name_plural = _("conventions")
        ordering = ["-year", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="convention_period_ordered",
            ),
            models.UniqueConstraint(
                fields=["candidature", "lot", "year"], name="one_convention_per_lot_and_year"
            ),
        ]

    def __str__(self):
        return f"{self.number} – {self.beneficiary_name}"


class ConventionStatusChange(StatusChange):
    convention = models.ForeignKey(
        Convention, on_delete=models.CASCADE, related_name="status_changes"
    )
    statuses, actions = ConventionStatus, ConventionAction


class Amendment(models.Model):
    """An avenant: what it changes, in words and in money or dates."""

    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="amendments")
    number = models.PositiveSmallIntegerField(_("numéro d'avenant"))
    signed_on = models.DateField(_("signé le"))
    changes = models.TextField(_("ce qu'il modifie"))
    amount_before = models.DecimalField(max_digits=12, decimal_places=2)
    amount_after = models.DecimalField(_("nouveau montant (€)"), max_digits=12, decimal_places=2)
    period_end_before = models.DateField()
    period_end_after = models.DateField(_("nouvelle fin"))
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


class Payment(models.Model):
    """An instalment of the payment schedule."""

    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="payments")
    position = models.PositiveSmallIntegerField(default=1)
    label = models.CharField(_("versement"), max_length=200)
    due_on = models.DateField(_("échéance"))
    amount = models.DecimalField(
        _("montant (€)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    condition = models.CharField(_("condition"), max_length=250, blank=True)
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

    def __str__(self):
        return f"{self.label} – {self.amount} €"


class PaymentStatusChange(StatusChange):
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="status_changes")
    statuses, actions = PaymentStatus, PaymentAction


class ProgressReview(models.Model):
    """A point d'étape with the Département, the DDETS and the organisation."""

    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="reviews")
    scheduled_at = models.DateTimeField(_("date et heure"))
    place = models.CharField(_("lieu ou visioconférence"), max_length=250, blank=True)
    participants = models.TextField(
        _("participants"), help_text=_("Département, DDETS, structure.")
    )
    minutes = models.TextField(_("compte rendu"), blank=True)
    adjustments = models.TextField(_("décisions d'ajustement"), blank=True)
    held = models.BooleanField(_("tenu"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("point d'étape")
        verbose_name_plural = _("points d'étape")
        ordering = ["convention_id", "scheduled_at"]

    def __str__(self):
        return f"Point d'étape {self.scheduled_at:%d/%m/%Y} – {self.convention.number}"


class ReviewRemark(models.Model):
    """A remark of the DDETS on a progress review: its only write here."""

    review = models.ForeignKey(ProgressReview, on_delete=models.CASCADE, related_name="remarks")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("remarque"))
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["review_id", "at"]

    def __str__(self):
        return self.text[:60]


class Indicator(models.Model):
    """What the funded action must achieve, per call, with a target per year."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="indicators")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(_("indicateur"), max_length=250)
    unit = models.CharField(_("unité"), max_length=60, default="nombre")
    target = models.DecimalField(_("cible annuelle"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("indicateur")
        verbose_name_plural = _("indicateurs")
        ordering = ["call_id", "position", "pk"]

    def __str__(self):
        return self.label


class IndicatorValue(models.Model):
    """A value reported by the organisation for one period (a quarter of the year)."""

    convention = models.ForeignKey(
        Convention, on_delete=models.CASCADE, related_name="indicator_values"
    )
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="values")
    period = models.PositiveSmallIntegerField(
        _("trimestre"), validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    value = models.DecimalField(
        _("valeur"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    comment = models.CharField(_("commentaire"), max_length=500, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("valeur d'indicateur")
        verbose_name_plural = _("valeurs d'indicateurs")
        ordering = ["convention_id", "indicator__position", "period"]
        constraints = [
            models.UniqueConstraint(
                fields=["convention", "indicator", "period"], name="one_value_per_period"
            )
        ]

    def __str__(self):
        return f"{self.indicator} T{self.period} : {self.value}"


class Report(models.Model):
    """An activity report expected from the organisation, and the file it sent."""

    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(_("bilan"), max_length=20, choices=ReportKind.choices)
    due_on = models.DateField(_("à remettre avant le"))
    file = models.FileField(upload_to="bilans/", blank=True, max_length=200)
    file_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("remis le"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(_("validé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("bilan")
        verbose_name_plural = _("bilans")
        ordering = ["convention_id", "due_on"]

    def __str__(self):
        return f"{self.get_kind_display()} – {self.convention.number}"

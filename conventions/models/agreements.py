from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aap.models import Call, Lot
from candidatures.models import Candidature, Organisation
from conventions import articles
from conventions.dates import quarter_count
from conventions.models.locks import (
    ContentLocked,
    UnsoundDate,
    amending,
    changed_fields,
    locked_message,
    refuse_before_decision,
)
from conventions.states import ConventionAction, ConventionStatus, PaymentCondition
from core.elimination import under_visa
from core.models.history import StatusChange


def _template_article(name: str):
    """A text of the call's template, checked for its placeholders."""
    return models.TextField(
        articles.TITLES[name],
        default=articles.DEFAULTS[name],
        validators=[articles.TemplatePlaceholders(name)],
    )


def _agreement_article(name: str):
    return models.TextField(articles.TITLES[name], default=articles.DEFAULTS[name])


class FundingTerms(models.Model):
    """The template of a call's agreements: how they are paid by default (an advance at
    signature, the balance on a condition the platform checks) and the text of every
    article, which each new agreement copies (``conventions.articles``)."""

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
        max_length=30,
        choices=[
            (PaymentCondition.INTERMEDIATE_REPORT, PaymentCondition.INTERMEDIATE_REPORT.label),
            (PaymentCondition.FINAL_REPORTS, PaymentCondition.FINAL_REPORTS.label),
        ],
        default=PaymentCondition.FINAL_REPORTS,
    )
    object = _template_article("object")
    duration_text = _template_article("duration_text")
    amount_text = _template_article("amount_text")
    payment_terms = _template_article("payment_terms")
    obligations = _template_article("obligations")
    reports_text = _template_article("reports_text")
    followup_text = _template_article("followup_text")
    communication_text = _template_article("communication_text")
    modification_text = _template_article("modification_text")
    termination_text = _template_article("termination_text")
    disputes_text = _template_article("disputes_text")

    class Meta:
        verbose_name = _("modèle des conventions de l'appel")
        verbose_name_plural = _("modèles des conventions des appels")

    def __str__(self):
        return f"{self.call.reference} : {self.advance_percent} %"


class ConventionQuerySet(models.QuerySet):
    def of_member(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(organisation__memberships__user=user)


class Convention(models.Model):
    """The partnership agreement with a selected organisation, for a period that starts
    after the decision. Frozen from « sent for signature » on (``save``)."""

    # What the agreement says: frozen once it has been sent for signature.
    CONTENT_FIELDS = (
        "year",
        "decision_date",
        "period_start",
        "period_end",
        "object",
        "amount",
        "fte",
        "subsidy_share",
        "payment_terms",
        "obligations",
        "duration_text",
        "amount_text",
        "reports_text",
        "followup_text",
        "communication_text",
        "modification_text",
        "termination_text",
        "disputes_text",
        "beneficiary_name",
        "beneficiary_siret",
        "representative_name",
        "representative_role",
    )
    # What an elimination under the archives' visa may still change: personal data only.
    ELIMINATED_FIELDS = frozenset({"representative_name"})

    candidature = models.ForeignKey(
        Candidature, on_delete=models.PROTECT, related_name="conventions"
    )
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="conventions")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="conventions"
    )
    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="conventions")
    number = models.CharField(_("numéro"), max_length=60, unique=True)
    year = models.PositiveSmallIntegerField(_("année"), help_text=_("Année du début."))
    decision_date = models.DateField(
        _("date de la décision"),
        editable=False,
        help_text=_("La convention ne s'applique pas avant cette date."),
    )
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
    # The other articles, copied from the call's template (``conventions.articles``).
    duration_text = _agreement_article("duration_text")
    amount_text = _agreement_article("amount_text")
    reports_text = _agreement_article("reports_text")
    followup_text = _agreement_article("followup_text")
    communication_text = _agreement_article("communication_text")
    modification_text = _agreement_article("modification_text")
    termination_text = _agreement_article("termination_text")
    disputes_text = _agreement_article("disputes_text")
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
    # The PDF as it was sent for signature, rendered once: what the organisation signs.
    document = models.FileField(
        _("convention envoyée (PDF)"),
        upload_to="conventions/envoyees/",
        blank=True,
        max_length=200,
        editable=False,
    )
    document_sha256 = models.CharField(
        _("empreinte SHA-256 de la convention envoyée"), max_length=64, blank=True, editable=False
    )
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True, editable=False)
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
            models.CheckConstraint(
                condition=Q(period_start__gte=models.F("decision_date")),
                name="convention_starts_after_its_decision",
            ),
            models.UniqueConstraint(
                fields=["candidature", "lot", "year"], name="one_convention_per_lot_and_year"
            ),
        ]

    def __str__(self):
        return f"{self.number} – {self.beneficiary_name}"

    def save(self, *args, **kwargs):
        self.refuse_unsound_dates()
        with transaction.atomic():
            if self.pk is not None and not amending():
                update_fields = kwargs.get("update_fields")
                names = [
                    name
                    for name in self.CONTENT_FIELDS
                    if update_fields is None or name in update_fields
                ]
                stored = (
                    Convention.objects.select_for_update()
                    .filter(pk=self.pk)
                    .values("status", *names)
                    .first()
                )
                changed = changed_fields(self, stored, names) if stored is not None else []
                if (
                    changed
                    and stored["status"] != ConventionStatus.DRAFT
                    and not self._eliminating(changed)
                ):
                    raise ContentLocked(locked_message())
            return super().save(*args, **kwargs)

    def _eliminating(self, changed: list[str]) -> bool:
        """Under the archives' visa, the elimination anonymises the representative's name,
        and nothing else of what was signed (core.elimination)."""
        return set(changed) <= self.ELIMINATED_FIELDS and under_visa(self.candidature_id)

    def delete(self, *args, **kwargs):
        if not Convention.objects.filter(pk=self.pk, status=ConventionStatus.DRAFT).exists():
            raise ContentLocked(locked_message())
        return super().delete(*args, **kwargs)

    @property
    def is_draft(self) -> bool:
        return self.status == ConventionStatus.DRAFT

    @property
    def quarters(self) -> int:
        return quarter_count(self.period_start, self.period_end)

    def refuse_unsound_dates(self) -> None:
        refuse_before_decision(
            _("Le début de la convention"), self.period_start, self.decision_date
        )
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise UnsoundDate(_("La fin de la convention précède son début."))


def refuse_unless_schedule_open(convention_id: int) -> "Convention":
    """The agreement's row, locked; raises unless its schedule and reports may change
    (a draft, or a signed avenant being applied)."""
    row = (
        Convention.objects.select_for_update().only("status", "decision_date").get(pk=convention_id)
    )
    if row.status != ConventionStatus.DRAFT and not amending():
        raise ContentLocked(locked_message())
    return row


class ConventionStatusChange(StatusChange):
    convention = models.ForeignKey(
        Convention, on_delete=models.CASCADE, related_name="status_changes"
    )
    statuses, actions = ConventionStatus, ConventionAction

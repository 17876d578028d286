"""How an agreement is followed: progress reviews and the DDETS's remarks, indicators and
their values, the reports the organisation sends and their review."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _now
from django.utils.translation import gettext_lazy as _

from aap.models import Call
from conventions.models.agreements import Convention, refuse_unless_schedule_open
from conventions.models.locks import changed_fields, refuse_before_decision
from conventions.states import (
    IndicatorKind,
    ReportAction,
    ReportKind,
    ReportStatus,
)
from core.models.history import StatusChange

# An avenant may lengthen an agreement: its values are kept for up to eight quarters.
MAX_QUARTERS = 8


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
    """What the funded action must achieve, per call, with a target per year. A cumulative
    indicator adds its quarters up (events held); a level counts its last value (a
    collaboration space is active)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="indicators")
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(_("indicateur"), max_length=250)
    unit = models.CharField(_("unité"), max_length=60, default="nombre")
    kind = models.CharField(
        _("nature"),
        max_length=20,
        choices=IndicatorKind.choices,
        default=IndicatorKind.CUMULATIVE,
    )
    target = models.DecimalField(_("cible annuelle"), max_digits=10, decimal_places=2)

    class Meta:
        verbose_name = _("indicateur")
        verbose_name_plural = _("indicateurs")
        ordering = ["call_id", "position", "pk"]

    def __str__(self):
        return self.label

    @property
    def is_level(self) -> bool:
        return self.kind == IndicatorKind.LEVEL


class IndicatorValue(models.Model):
    """A value reported by the organisation for one quarter of the agreement (the first
    quarter begins on the agreement's first day)."""

    convention = models.ForeignKey(
        Convention, on_delete=models.CASCADE, related_name="indicator_values"
    )
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="values")
    period = models.PositiveSmallIntegerField(
        _("trimestre"), validators=[MinValueValidator(1), MaxValueValidator(MAX_QUARTERS)]
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
    """A report expected from the organisation (activity reports, the compte rendu
    financier), the file it sent, and the instructeur's review: accepted, or sent back
    with a reason. Its kind and due date are the agreement's text: frozen with it."""

    TERMS_FIELDS = ("kind", "due_on")

    convention = models.ForeignKey(Convention, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(_("bilan"), max_length=20, choices=ReportKind.choices)
    due_on = models.DateField(_("à remettre avant le"))
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=ReportStatus.choices,
        default=ReportStatus.DUE,
        editable=False,
    )
    file = models.FileField(upload_to="bilans/", blank=True, max_length=200)
    file_name = models.CharField(max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    submitted_at = models.DateTimeField(_("remis le"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_at = models.DateTimeField(_("validé le"), null=True, blank=True)
    sent_back_reason = models.TextField(_("motif du renvoi"), blank=True)

    class Meta:
        verbose_name = _("bilan")
        verbose_name_plural = _("bilans")
        ordering = ["convention_id", "due_on", "kind"]

    def __str__(self):
        return f"{self.get_kind_display()} – {self.convention.number}"

    def save(self, *args, **kwargs):
        with transaction.atomic():
            stored = (
                Report.objects.filter(pk=self.pk).values(*self.TERMS_FIELDS).first()
                if self.pk is not None
                else None
            )
            if stored is None or changed_fields(self, stored, self.TERMS_FIELDS):
                convention = refuse_unless_schedule_open(self.convention_id)
                refuse_before_decision(
                    _now("L'échéance du bilan"), self.due_on, convention.decision_date
                )
            return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            refuse_unless_schedule_open(self.convention_id)
            return super().delete(*args, **kwargs)


class ReportStatusChange(StatusChange):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="status_changes")
    statuses, actions = ReportStatus, ReportAction

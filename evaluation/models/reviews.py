from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from aap.models import Call, Criterion, SubCriterion
from aap.states import CallStatus
from candidatures.models import Candidature
from core.dates import format_datetime
from core.exceptions import DomainError
from core.models.history import StatusChange
from evaluation.models.committee import CommitteeRecord
from evaluation.states import (
    AdmissibilityOutcome,
    ConflictStatus,
    EvaluationAction,
    EvaluationStatus,
    OpinionKind,
)


class Admissibility(models.Model):
    """The instructeur's decision on a submitted dossier: admissible, or not and why.

    ``checks`` keeps what the platform computed when the decision was taken."""

    candidature = models.OneToOneField(
        Candidature, on_delete=models.CASCADE, related_name="admissibility"
    )
    outcome = models.CharField(
        _("recevabilité"), max_length=20, choices=AdmissibilityOutcome.choices
    )
    reason = models.TextField(_("motif"), blank=True)
    checks = models.JSONField(_("contrôles au moment de la décision"), default=list)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("recevabilité")
        verbose_name_plural = _("recevabilités")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(outcome=AdmissibilityOutcome.INADMISSIBLE)
                | ~models.Q(reason=""),
                name="inadmissible_needs_a_reason",
            )
        ]

    def __str__(self):
        return f"{self.candidature}: {self.get_outcome_display()}"

    def save(self, *args, rectification=None, **kwargs):
        """Once the dossier's admissibility is notified, only a recorded rectification of
        its inadmissibility (``AdmissibilityRectification``) may save it."""
        # The freeze reads the letters, whose module imports this one.
        from evaluation.models.decisions import refuse_if_admissibility_frozen

        with transaction.atomic():
            allowed = rectification is not None and rectification.admits(self)
            refuse_if_admissibility_frozen(self.candidature_id, allowed=allowed)
            return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        from evaluation.models.decisions import refuse_if_admissibility_frozen  # as in save

        with transaction.atomic():
            refuse_if_admissibility_frozen(self.candidature_id)
            return super().delete(*args, **kwargs)


class AdmissibilityChange(models.Model):
    """Every admissibility decision, in order (a decision may be corrected; once notified,
    an inadmissibility is corrected only by a recorded rectification, named here)."""

    candidature = models.ForeignKey(
        Candidature, on_delete=models.CASCADE, related_name="admissibility_changes"
    )
    outcome = models.CharField(max_length=20, choices=AdmissibilityOutcome.choices)
    reason = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    rectification = models.OneToOneField(
        "evaluation.AdmissibilityRectification",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="change",
    )

    class Meta:
        ordering = ["candidature_id", "at", "pk"]

    def __str__(self):
        return f"{self.candidature_id}: {self.outcome}"


class ScoringPart(models.Model):
    """What makes a dossier's score: its evaluations, their scores and justifications, its
    assignments and its consensus. None of it changes once scoring is closed for the
    dossier (``refuse_if_scoring_closed``), whichever path writes: services, views, the
    shell. Bulk ``QuerySet.update()`` and ``delete()`` are the code's own business."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        refuse_if_scoring_closed(self.scored_candidature_id())
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        refuse_if_scoring_closed(self.scored_candidature_id())
        return super().delete(*args, **kwargs)

    def scored_candidature_id(self) -> int:
        raise NotImplementedError


class Assignment(ScoringPart):
    """An evaluator asked to score a dossier, once they declared no conflict of interest."""

    candidature = models.ForeignKey(
        Candidature, on_delete=models.CASCADE, related_name="assignments"
    )
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    conflict = models.CharField(
        _("conflit d'intérêts"),
        max_length=20,
        choices=ConflictStatus.choices,
        default=ConflictStatus.UNDECLARED,
    )
    conflict_note = models.TextField(_("nature du lien"), blank=True)
    declared_at = models.DateTimeField(_("déclaré le"), null=True, blank=True)

    class Meta:
        verbose_name = _("affectation")
        verbose_name_plural = _("affectations")
        ordering = ["candidature_id", "assigned_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["candidature", "evaluator"], name="one_assignment_per_evaluator"
            )
        ]

    def __str__(self):
        return f"{self.evaluator} → {self.candidature}"

    def save(self, *args, **kwargs):
        # A conflict of interest may still be declared once scoring is closed: it adds no
        # score. A new evaluator may not be asked.
        if self.pk is None:
            return super().save(*args, **kwargs)
        return models.Model.save(self, *args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.conflict != ConflictStatus.CONFLICT

    def scored_candidature_id(self) -> int:
        return self.candidature_id


class Evaluation(ScoringPart):
    assignment = models.OneToOneField(
        Assignment, on_delete=models.CASCADE, related_name="evaluation"
    )
    status = models.CharField(
        _("statut"),
        max_length=20,
        choices=EvaluationStatus.choices,
        default=EvaluationStatus.DRAFT,
        editable=False,
    )
    overall_comment = models.TextField(_("appréciation générale"), blank=True)
    submitted_at = models.DateTimeField(_("déposée le"), null=True, blank=True)
    total = models.DecimalField(
        _("total sur 100"),
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        editable=False,
        help_text=_("Calculé par la base de données au dépôt : somme des notes × coefficients."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("évaluation")
        verbose_name_plural = _("évaluations")

    def __str__(self):
        return f"Évaluation de {self.assignment}"

    def scored_candidature_id(self) -> int:
        return Assignment.objects.values_list("candidature_id", flat=True).get(
            pk=self.assignment_id
        )


class Score(ScoringPart):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="scores")
    subcriterion = models.ForeignKey(SubCriterion, on_delete=models.PROTECT, related_name="scores")
    value = models.PositiveSmallIntegerField(_("note"))

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "subcriterion"], name="one_score_per_subcriterion"
            )
        ]

    def __str__(self):
        return f"{self.subcriterion}: {self.value}"

    def scored_candidature_id(self) -> int:
        return _candidature_of_evaluation(self.evaluation_id)


class Justification(ScoringPart):
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="justifications"
    )
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("justification"))

    class Meta:
        verbose_name = _("justification")
        verbose_name_plural = _("justifications")
        constraints = [
            models.UniqueConstraint(
                fields=["evaluation", "criterion"], name="one_justification_per_criterion"
            )
        ]

    def __str__(self):
        return self.text[:60]

    def scored_candidature_id(self) -> int:
        return _candidature_of_evaluation(self.evaluation_id)


class EvaluationStatusChange(StatusChange):
    evaluation = models.ForeignKey(
        Evaluation, on_delete=models.CASCADE, related_name="status_changes"
    )
    statuses, actions = EvaluationStatus, EvaluationAction


class Consensus(ScoringPart):
    """The score agreed in a harmonisation meeting, out of 100, with its reason."""

    candidature = models.OneToOneField(
        Candidature, on_delete=models.CASCADE, related_name="consensus"
    )
    total = models.DecimalField(
        _("note de consensus (sur 100)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    reason = models.TextField(_("motif"))
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("note de consensus")
        verbose_name_plural = _("notes de consensus")
        constraints = [
            models.CheckConstraint(condition=models.Q(total__lte=100), name="consensus_at_most_100")
        ]

    def __str__(self):
        return f"{self.candidature}: {self.total}"

    def scored_candidature_id(self) -> int:
        return self.candidature_id


class Opinion(models.Model):
    """The DDETS's opinion on a dossier (one per reader, which they may revise)."""

    candidature = models.ForeignKey(Candidature, on_delete=models.CASCADE, related_name="opinions")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("avis"), max_length=20, choices=OpinionKind.choices)
    comment = models.TextField(_("commentaire"), blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("avis de la DDETS")
        verbose_name_plural = _("avis de la DDETS")
        constraints = [
            models.UniqueConstraint(fields=["candidature", "author"], name="one_opinion_per_reader")
        ]

    def __str__(self):
        return f"{self.candidature}: {self.get_kind_display()}"


# --- Scoring closed -------------------------------------------------------------------------


class ScoringClosed(DomainError):
    """The dossier's scores are part of a frozen committee record or of notified decisions."""


def _candidature_of_evaluation(evaluation_id: int) -> int:
    return Evaluation.objects.values_list("assignment__candidature_id", flat=True).get(
        pk=evaluation_id
    )


def scoring_closed_reason(candidature_id: int, call_status: str | None = None) -> str | None:
    """Why the dossier's scores no longer change, in French, or None while they may.

    Closed once a committee record of one of its lots is frozen (the record shows them),
    once the call's decisions are notified, or once it is classed sans suite."""
    record = (
        CommitteeRecord.objects.filter(lot__candidatures=candidature_id)
        .select_related("lot")
        .order_by("created_at")
        .first()
    )
    if record is not None:
        return gettext_now(
            "La notation de ce dossier est close : le procès-verbal du comité du lot "
            "« %(lot)s » a été figé le %(date)s. Les évaluations et la note de consensus ne "
            "changent plus ; une correction passe par une rectification du procès-verbal."
        ) % {"lot": record.lot.name, "date": format_datetime(record.created_at)}
    if call_status is None:
        call_status = Candidature.objects.values_list("call__status", flat=True).get(
            pk=candidature_id
        )
    if call_status in (CallStatus.DECIDED, CallStatus.ARCHIVED):
        return gettext_now(
            "La notation de ce dossier est close : les décisions de l'appel à projets ont été "
            "notifiées. Les évaluations et la note de consensus ne changent plus."
        )
    if call_status == CallStatus.ABANDONED:
        return gettext_now(
            "La notation de ce dossier est close : l'appel à projets est classé sans suite."
        )
    return None


def refuse_if_scoring_closed(candidature_id: int) -> None:
    """Raise ``ScoringClosed`` when the dossier's scoring is closed, read under a lock of
    its call's row, which freezing a committee record and notifying the decisions also
    take: a score saved at the same instant lands before the freeze or is refused."""
    call_id = Candidature.objects.values_list("call_id", flat=True).get(pk=candidature_id)
    with transaction.atomic():
        reason = scoring_closed_reason(candidature_id, lock_scoring(call_id))
    if reason is not None:
        raise ScoringClosed(reason)


def lock_scoring(call_id: int) -> str:
    """Lock the call's row in the caller's transaction and return its status: the lock
    that freezing a committee record and notifying the decisions take, and under which
    scores and decisions are refused once closed (``refuse_if_scoring_closed``,
    ``refuse_if_decision_frozen``)."""
    return Call.objects.select_for_update().values_list("status", flat=True).get(pk=call_id)

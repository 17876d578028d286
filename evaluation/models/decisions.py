"""The committee's decisions, frozen once notified and changed only through a recorded
rectification; the rectification of a notified inadmissibility, which admits the dossier
and carries the committee's decisions on it; and the history of decisions, consensus
scores and the DDETS's opinions.

The freeze lives here, in the model layer, read under the lock of the call's row that
notifying also takes: the services, the views, the Django admin and a shell meet it.
Bulk ``QuerySet.update()`` and ``delete()`` are the code's own business."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

from aap.models import Lot
from aap.states import CallStatus
from candidatures.models import Candidature
from core.dates import format_datetime
from core.exceptions import DomainError
from core.models.history import Revision, snapshot
from evaluation.models.letters import NotificationLetter
from evaluation.models.reviews import Admissibility, Opinion, lock_scoring
from evaluation.states import AdmissibilityOutcome, DecisionOutcome, LetterKind, LetterStatus

DECISION_FIELDS = ["outcome", "amount_granted", "fte_granted", "reason", "deliberation"]


class DecisionFrozen(DomainError):
    """The decision was notified: it changes only through a rectification."""


class AdmissibilityFrozen(DecisionFrozen):
    """The admissibility was notified: an inadmissibility changes only through a
    rectification (``AdmissibilityRectification``)."""


class Decision(models.Model):
    """The committee's decision on a dossier for one lot."""

    candidature = models.ForeignKey(Candidature, on_delete=models.CASCADE, related_name="decisions")
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="decisions")
    outcome = models.CharField(_("décision"), max_length=20, choices=DecisionOutcome.choices)
    amount_granted = models.DecimalField(
        _("montant attribué (€)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    fte_granted = models.DecimalField(
        _("ETP financés"),
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    reason = models.TextField(_("motif"), blank=True)
    # The act of the assembly that grants the subsidy (commission permanente), entered with
    # the decision before it is notified, and frozen with it; the open data publishes it as
    # referenceDecision (empty while unknown, and the dashboard says so).
    deliberation = models.CharField(
        _("référence de la délibération"),
        max_length=100,
        blank=True,
        help_text=_(
            "Par exemple : délibération de la commission permanente n° 2026 CP03 12-4. "
            "Publiée avec les données ouvertes des subventions."
        ),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("décision")
        verbose_name_plural = _("décisions")
        constraints = [
            models.UniqueConstraint(fields=["candidature", "lot"], name="one_decision_per_lot"),
            models.CheckConstraint(
                condition=~models.Q(outcome=DecisionOutcome.SELECTED)
                | (models.Q(amount_granted__isnull=False) & models.Q(fte_granted__isnull=False)),
                name="selected_has_amount_and_fte",
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome=DecisionOutcome.NOT_SELECTED) | ~models.Q(reason=""),
                name="not_selected_has_a_reason",
            ),
        ]

    def __str__(self):
        return f"{self.candidature} – {self.lot}: {self.get_outcome_display()}"

    def save(self, *args, by=None, note: str = "", rectification=None, **kwargs):
        """Save and write the history row. Once the decision is notified, only the values
        of a recorded ``rectification`` of this decision (or of the inadmissibility
        rectified with it) may be saved."""
        with transaction.atomic():
            allowed = rectification is not None and rectification.applies_to(self)
            refuse_if_decision_frozen(self.candidature_id, allowed=allowed)
            stored = type(self).objects.filter(pk=self.pk).first() if self.pk else None
            super().save(*args, **kwargs)
            before = snapshot(stored, DECISION_FIELDS) if stored else None
            after = snapshot(type(self).objects.get(pk=self.pk), DECISION_FIELDS)  # as stored
            if before != after:
                action = (
                    rectification.revision_action if allowed else "update" if stored else "create"
                )
                DecisionRevision.objects.create(
                    decision=self,
                    action=action,
                    by_id=by.pk if by is not None else self.decided_by_id,
                    before=before,
                    after=after,
                    note=note,
                )

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            refuse_if_decision_frozen(self.candidature_id)
            return super().delete(*args, **kwargs)


class DecisionRevision(Revision):
    """Every change of a decision, before its notification and through rectifications."""

    decision = models.ForeignKey(Decision, on_delete=models.CASCADE, related_name="revisions")

    ACTIONS = {
        "create": _("Décision enregistrée"),
        "update": _("Décision modifiée"),
        "rectify": _("Décision rectifiée"),
        "admit": _("Décision prise avec la rectification de l'irrecevabilité"),
    }

    class Meta(Revision.Meta):
        verbose_name = _("modification d'une décision")
        verbose_name_plural = _("historique des décisions")


class DecisionRectification(models.Model):
    """The act that changes a notified decision: why, who, when, what it was and what it
    becomes. It issues a new letter (``NotificationLetter.rectification``)."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="rectifications")
    reason = models.TextField(_("motif de la rectification"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("par")
    )
    at = models.DateTimeField(_("le"), default=timezone.now)
    old_outcome = models.CharField(
        _("décision notifiée"), max_length=20, choices=DecisionOutcome.choices
    )
    old_amount = models.DecimalField(
        _("montant notifié (€)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    old_fte = models.DecimalField(
        _("ETP notifiés"), max_digits=4, decimal_places=2, null=True, blank=True
    )
    new_outcome = models.CharField(
        _("décision rectifiée"), max_length=20, choices=DecisionOutcome.choices
    )
    new_amount = models.DecimalField(
        _("montant rectifié (€)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    new_fte = models.DecimalField(
        _("ETP rectifiés"), max_digits=4, decimal_places=2, null=True, blank=True
    )

    class Meta:
        verbose_name = _("rectification d'une décision")
        verbose_name_plural = _("rectifications de décisions")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="rectification_has_a_reason"
            )
        ]

    revision_action = "rectify"

    def __str__(self):
        return f"{self.decision} – {self.at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise DecisionFrozen(gettext_now("Une rectification enregistrée ne change plus."))
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DecisionFrozen(gettext_now("Une rectification enregistrée ne se supprime pas."))

    def applies_to(self, decision: Decision) -> bool:
        """This recorded rectification sets exactly ``decision``'s values."""
        return (
            self.pk is not None
            and self.decision_id == decision.pk
            and (self.new_outcome, self.new_amount, self.new_fte)
            == (decision.outcome, decision.amount_granted, decision.fte_granted)
        )


@dataclass(frozen=True)
class AdmittedDecision:
    """One lot's decision as an admissibility rectification records it."""

    lot_id: int
    lot_name: str
    outcome: str
    amount_granted: Decimal | None
    fte_granted: Decimal | None
    reason: str
    deliberation: str = ""

    def get_outcome_display(self) -> str:
        return str(DecisionOutcome(self.outcome).label)


class AdmissibilityRectification(models.Model):
    """The act that corrects a notified inadmissibility (a recours gracieux shows the
    missing piece was attached): why, who, when, the admissibility it was and the one it
    becomes, and, since the call's decisions are already notified and the committee
    re-examined the dossier, the committee's decision on each of its lots. It issues one
    new letter (``NotificationLetter.admissibility_rectification``)."""

    candidature = models.OneToOneField(
        Candidature, on_delete=models.PROTECT, related_name="admissibility_rectification"
    )
    reason = models.TextField(_("motif de la rectification"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("par")
    )
    at = models.DateTimeField(_("le"), default=timezone.now)
    old_outcome = models.CharField(
        _("recevabilité notifiée"), max_length=20, choices=AdmissibilityOutcome.choices
    )
    old_reason = models.TextField(_("motif notifié"), blank=True)
    old_decided_at = models.DateTimeField(_("déclaré irrecevable le"))
    new_outcome = models.CharField(
        _("recevabilité rectifiée"), max_length=20, choices=AdmissibilityOutcome.choices
    )
    # [{"lot": id, "lot_name", "outcome", "amount": "24500.00" | None, "fte", "reason",
    #   "deliberation"}],
    # in the lots' order: what the letter says, and what the decisions saved must match.
    decisions = models.JSONField(_("décisions du comité"), default=list)

    revision_action = "admit"

    class Meta:
        verbose_name = _("rectification d'une irrecevabilité")
        verbose_name_plural = _("rectifications d'irrecevabilités")
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="admissibility_rectification_has_a_reason"
            )
        ]

    def __str__(self):
        return f"{self.candidature} – {self.at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise DecisionFrozen(gettext_now("Une rectification enregistrée ne change plus."))
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise DecisionFrozen(gettext_now("Une rectification enregistrée ne se supprime pas."))

    def decision_rows(self) -> list[AdmittedDecision]:
        return [
            AdmittedDecision(
                lot_id=row["lot"],
                lot_name=row["lot_name"],
                outcome=row["outcome"],
                amount_granted=None if row["amount"] is None else Decimal(row["amount"]),
                fte_granted=None if row["fte"] is None else Decimal(row["fte"]),
                reason=row["reason"],
                deliberation=row.get("deliberation", ""),
            )
            for row in self.decisions
        ]

    def admits(self, admissibility: Admissibility) -> bool:
        """This recorded act sets exactly ``admissibility``'s outcome."""
        return (
            self.pk is not None
            and self.candidature_id == admissibility.candidature_id
            and self.new_outcome == admissibility.outcome
        )

    def applies_to(self, decision: Decision) -> bool:
        """This recorded act carries exactly ``decision``'s values."""
        if self.pk is None or self.candidature_id != decision.candidature_id:
            return False
        return any(
            (row.lot_id, row.outcome, row.amount_granted, row.fte_granted)
            == (decision.lot_id, decision.outcome, decision.amount_granted, decision.fte_granted)
            for row in self.decision_rows()
        )


class ConsensusRevision(Revision):
    """Every consensus score set on a dossier, in order (the last one counts)."""

    candidature = models.ForeignKey(
        Candidature, on_delete=models.CASCADE, related_name="consensus_revisions"
    )

    ACTIONS = {"set": _("Note de consensus enregistrée"), "update": _("Note de consensus modifiée")}

    class Meta(Revision.Meta):
        verbose_name = _("modification d'une note de consensus")
        verbose_name_plural = _("historique des notes de consensus")


class OpinionRevision(Revision):
    """Every version of a DDETS opinion: a revised opinion keeps the previous ones."""

    opinion = models.ForeignKey(Opinion, on_delete=models.CASCADE, related_name="revisions")

    ACTIONS = {"give": _("Avis donné"), "revise": _("Avis révisé")}

    class Meta(Revision.Meta):
        verbose_name = _("version d'un avis de la DDETS")
        verbose_name_plural = _("historique des avis de la DDETS")


# --- Notified -----------------------------------------------------------------------------


def decision_frozen_reason(candidature_id: int, call_status: str | None = None) -> str | None:
    """Why the dossier's decisions no longer change, in French, or None while they may.

    Frozen once the dossier's letter is confirmed or sent, or once the call's decisions
    are notified."""
    # The latest act that notified them: the decision letter, or the letter of the
    # rectification of an inadmissibility, which notifies the committee's decisions.
    letter = (
        NotificationLetter.objects.filter(candidature_id=candidature_id)
        .filter(
            models.Q(kind=LetterKind.DECISION) | models.Q(admissibility_rectification__isnull=False)
        )
        .exclude(status=LetterStatus.DRAFT)
        .order_by("-queued_at", "-pk")
        .values_list("sent_at", "queued_at")
        .first()
    )
    if letter is not None:
        return gettext_now(
            "La décision sur ce dossier a été notifiée le %(date)s : elle ne change plus que "
            "par une rectification (motif, nouvelle lettre au candidat)."
        ) % {"date": format_datetime(letter[0] or letter[1])}
    if call_status is None:
        call_status = Candidature.objects.values_list("call__status", flat=True).get(
            pk=candidature_id
        )
    if call_status in (CallStatus.DECIDED, CallStatus.ARCHIVED):
        return gettext_now(
            "Les décisions de l'appel à projets ont été notifiées : une décision ne change "
            "plus que par une rectification (motif, nouvelle lettre au candidat)."
        )
    return None


def refuse_if_decision_frozen(candidature_id: int, *, allowed: bool = False) -> None:
    """Raise ``DecisionFrozen`` when the dossier's decisions are notified (unless
    ``allowed``: a recorded rectification), read under a lock of its call's row, which
    notifying also takes: a decision saved at the same instant lands before the letters
    are written, or is refused."""
    call_id = Candidature.objects.values_list("call_id", flat=True).get(pk=candidature_id)
    with transaction.atomic():
        reason = decision_frozen_reason(candidature_id, lock_scoring(call_id))
    if reason is not None and not allowed:
        raise DecisionFrozen(reason)


def admissibility_frozen_reason(candidature_id: int, call_status: str | None = None) -> str | None:
    """Why the dossier's admissibility no longer changes by the ordinary form, in French,
    or None while it may: notified with the decisions (``decision_frozen_reason``)."""
    if decision_frozen_reason(candidature_id, call_status) is None:
        return None
    return gettext_now(
        "La recevabilité de ce dossier a été notifiée : elle ne change plus par le formulaire "
        "de recevabilité. Une irrecevabilité notifiée se corrige par « Rectifier "
        "l'irrecevabilité » (motif, décision du comité, nouvelle lettre au candidat)."
    )


def refuse_if_admissibility_frozen(candidature_id: int, *, allowed: bool = False) -> None:
    """Raise ``AdmissibilityFrozen`` when the dossier's admissibility is notified (unless
    ``allowed``: a recorded rectification), read under the call's lock as decisions are."""
    call_id = Candidature.objects.values_list("call_id", flat=True).get(pk=candidature_id)
    with transaction.atomic():
        reason = admissibility_frozen_reason(candidature_id, lock_scoring(call_id))
    if reason is not None and not allowed:
        raise AdmissibilityFrozen(reason)

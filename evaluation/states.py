"""Statuses of an evaluation and the moves between them (see ``core.workflow``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("Déposée")


class EvaluationAction(models.TextChoices):
    SUBMIT = "submit", _("Déposer l'évaluation")
    REOPEN = "reopen", _("Rouvrir l'évaluation")


EVALUATION_TRANSITIONS: dict[tuple[str, str], str] = {
    (EvaluationStatus.DRAFT, EvaluationAction.SUBMIT): EvaluationStatus.SUBMITTED,
    (EvaluationStatus.SUBMITTED, EvaluationAction.REOPEN): EvaluationStatus.DRAFT,
}


class AdmissibilityOutcome(models.TextChoices):
    ADMISSIBLE = "admissible", _("Recevable")
    INADMISSIBLE = "inadmissible", _("Irrecevable")


class ConflictStatus(models.TextChoices):
    UNDECLARED = "undeclared", _("Déclaration attendue")
    NONE = "none", _("Absence de conflit déclarée")
    CONFLICT = "conflict", _("Conflit d'intérêts déclaré")


class OpinionKind(models.TextChoices):
    FAVOURABLE = "favourable", _("Favorable")
    RESERVED = "reserved", _("Réservé")
    UNFAVOURABLE = "unfavourable", _("Défavorable")


class DecisionOutcome(models.TextChoices):
    SELECTED = "selected", _("Retenu")
    WAITING_LIST = "waiting_list", _("Liste d'attente")
    NOT_SELECTED = "not_selected", _("Non retenu")


class LetterKind(models.TextChoices):
    DECISION = "decision", _("Notification de la décision")
    RECTIFICATION = "rectification", _("Rectification de la décision")


class LetterStatus(models.TextChoices):
    """A letter is drafted (its free paragraphs), queued once staff confirm, then sent by
    a Celery task that renders, stores and e-mails it."""

    DRAFT = "draft", _("Brouillon")
    QUEUED = "queued", _("En cours d'envoi")
    SENT = "sent", _("Envoyée")

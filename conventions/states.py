"""Statuses of an agreement and of an instalment, and the moves between them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ConventionStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SENT = "sent", _("Envoyée pour signature")
    SIGNED = "signed", _("Signée")
    IN_PROGRESS = "in_progress", _("En cours d'exécution")
    SETTLED = "settled", _("Soldée")
    TERMINATED = "terminated", _("Résiliée")


class ConventionAction(models.TextChoices):
    SEND = "send", _("Envoyer pour signature")
    BACK_TO_DRAFT = "back_to_draft", _("Revenir au brouillon")
    SIGN = "sign", _("Enregistrer la signature")
    START = "start", _("Démarrer l'exécution")
    SETTLE = "settle", _("Solder")
    TERMINATE = "terminate", _("Résilier")


CONVENTION_TRANSITIONS: dict[tuple[str, str], str] = {
    (ConventionStatus.DRAFT, ConventionAction.SEND): ConventionStatus.SENT,
    (ConventionStatus.SENT, ConventionAction.BACK_TO_DRAFT): ConventionStatus.DRAFT,
    (ConventionStatus.SENT, ConventionAction.SIGN): ConventionStatus.SIGNED,
    (ConventionStatus.SIGNED, ConventionAction.START): ConventionStatus.IN_PROGRESS,
    (ConventionStatus.IN_PROGRESS, ConventionAction.SETTLE): ConventionStatus.SETTLED,
    (ConventionStatus.SIGNED, ConventionAction.TERMINATE): ConventionStatus.TERMINATED,
    (ConventionStatus.IN_PROGRESS, ConventionAction.TERMINATE): ConventionStatus.TERMINATED,
}

# Agreements that bind the Département: published as open data, counted as committed.
BINDING_STATUSES = (
    ConventionStatus.SIGNED,
    ConventionStatus.IN_PROGRESS,
    ConventionStatus.SETTLED,
)


class PaymentStatus(models.TextChoices):
    PLANNED = "planned", _("Prévu")
    REQUESTED = "requested", _("Demandé")
    ORDERED = "ordered", _("Mandaté")
    PAID = "paid", _("Versé")


class PaymentAction(models.TextChoices):
    REQUEST = "request", _("Enregistrer la demande")
    ORDER = "order", _("Enregistrer le mandatement")
    PAY = "pay", _("Enregistrer le versement")


PAYMENT_TRANSITIONS: dict[tuple[str, str], str] = {
    (PaymentStatus.PLANNED, PaymentAction.REQUEST): PaymentStatus.REQUESTED,
    (PaymentStatus.REQUESTED, PaymentAction.ORDER): PaymentStatus.ORDERED,
    (PaymentStatus.ORDERED, PaymentAction.PAY): PaymentStatus.PAID,
}


class ReportKind(models.TextChoices):
    INTERMEDIATE = "intermediate", _("Bilan intermédiaire")
    FINAL = "final", _("Bilan final")

"""Statuses of an agreement, an instalment, an amendment and a report, the moves between
them, and the kinds that rule payments and indicators."""

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
# Signed and not yet closed: what an avenant may change.
AMENDABLE_STATUSES = (ConventionStatus.SIGNED, ConventionStatus.IN_PROGRESS)


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


class PaymentCondition(models.TextChoices):
    """What must be true before an instalment is requested, ordered or paid: the platform
    checks it (``services.payments.condition_problem``)."""

    SIGNATURE = "signature", _("À la signature de la convention")
    INTERMEDIATE_REPORT = "intermediate_report", _("Après validation du bilan intermédiaire")
    FINAL_REPORTS = (
        "final_reports",
        _("Après validation du bilan final et du compte rendu financier (CERFA n° 15059)"),
    )
    DATE = "date", _("À partir d'une date")


class ReportKind(models.TextChoices):
    INTERMEDIATE = "intermediate", _("Bilan intermédiaire")
    FINAL = "final", _("Bilan final")
    FINANCIAL = "financial", _("Compte rendu financier (CERFA n° 15059)")


class ReportStatus(models.TextChoices):
    DUE = "due", _("Attendu")
    SUBMITTED = "submitted", _("Transmis")
    ACCEPTED = "accepted", _("Validé")
    SENT_BACK = "sent_back", _("Renvoyé à la structure")


class ReportAction(models.TextChoices):
    SUBMIT = "submit", _("Transmettre")
    ACCEPT = "accept", _("Valider")
    SEND_BACK = "send_back", _("Renvoyer à la structure")


REPORT_TRANSITIONS: dict[tuple[str, str], str] = {
    (ReportStatus.DUE, ReportAction.SUBMIT): ReportStatus.SUBMITTED,
    # A file sent again before the review replaces the first one.
    (ReportStatus.SUBMITTED, ReportAction.SUBMIT): ReportStatus.SUBMITTED,
    (ReportStatus.SENT_BACK, ReportAction.SUBMIT): ReportStatus.SUBMITTED,
    (ReportStatus.SUBMITTED, ReportAction.ACCEPT): ReportStatus.ACCEPTED,
    (ReportStatus.SUBMITTED, ReportAction.SEND_BACK): ReportStatus.SENT_BACK,
}


class AmendmentStatus(models.TextChoices):
    DRAFT = "draft", _("En préparation")
    SENT = "sent", _("Envoyé pour signature")
    SIGNED = "signed", _("Signé")
    CANCELLED = "cancelled", _("Abandonné")


class AmendmentAction(models.TextChoices):
    SEND = "send", _("Envoyer l'avenant pour signature")
    BACK_TO_DRAFT = "back_to_draft", _("Revenir à la préparation")
    SIGN = "sign", _("Enregistrer la signature de l'avenant")
    CANCEL = "cancel", _("Abandonner l'avenant")


AMENDMENT_TRANSITIONS: dict[tuple[str, str], str] = {
    (AmendmentStatus.DRAFT, AmendmentAction.SEND): AmendmentStatus.SENT,
    (AmendmentStatus.DRAFT, AmendmentAction.CANCEL): AmendmentStatus.CANCELLED,
    (AmendmentStatus.SENT, AmendmentAction.BACK_TO_DRAFT): AmendmentStatus.DRAFT,
    (AmendmentStatus.SENT, AmendmentAction.SIGN): AmendmentStatus.SIGNED,
    (AmendmentStatus.SENT, AmendmentAction.CANCEL): AmendmentStatus.CANCELLED,
}
# An avenant being prepared or awaiting its signature: one at a time per agreement.
OPEN_AMENDMENT_STATUSES = (AmendmentStatus.DRAFT, AmendmentStatus.SENT)


class IndicatorKind(models.TextChoices):
    CUMULATIVE = "cumulative", _("Cumulatif : les valeurs des trimestres s'additionnent")
    LEVEL = "level", _("Niveau : la dernière valeur renseignée compte")

"""Categories of what the platform keeps, and the statuses of a bordereau d'élimination."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    """One retention period each (``settings.RETENTION_DAYS``, same keys)."""

    NOT_SELECTED = "not_selected", _("Dossiers non retenus, irrecevables ou jamais déposés")
    SELECTED = "selected", _("Dossiers retenus et leurs conventions")
    INACTIVE_ACCOUNT = "inactive_account", _("Comptes inactifs")
    READING_LOG = "reading_log", _("Journal des consultations de la DDETS")
    OUTBOX = "outbox", _("Courriels envoyés")


# Why each category may be eliminated after its period: printed on the bordereau.
LEGAL_BASIS = {
    Category.NOT_SELECTED: _(
        "Instruction DAF/DPACI/RES/2009/018 (dossiers de demande de subvention non "
        "retenus) ; RGPD, art. 5-1-e"
    ),
    Category.SELECTED: _(
        "Instruction DAF/DPACI/RES/2009/018 (dossiers de subvention attribuée, durée "
        "comptable) ; RGPD, art. 5-1-e"
    ),
    Category.INACTIVE_ACCOUNT: _("RGPD, art. 5-1-e ; recommandations de la CNIL"),
    Category.READING_LOG: _("RGPD, art. 5-1-e ; recommandation de la CNIL sur la journalisation"),
    Category.OUTBOX: _("RGPD, art. 5-1-e"),
}

# Categories whose items are dossiers (the others: an account, a reading, an e-mail).
DOSSIER_CATEGORIES = (Category.NOT_SELECTED, Category.SELECTED)


class BordereauStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SENT = "sent", _("Envoyé aux archives")
    APPROVED = "approved", _("Visa accordé")
    REFUSED = "refused", _("Visa refusé")
    ELIMINATING = "eliminating", _("Élimination en cours")
    DONE = "done", _("Élimination exécutée")


class BordereauAction(models.TextChoices):
    SEND = "send", _("Envoyer aux archives")
    APPROVE = "approve", _("Enregistrer le visa")
    REFUSE = "refuse", _("Enregistrer le refus de visa")
    ELIMINATE = "eliminate", _("Lancer l'élimination")
    COMPLETE = "complete", _("Constater l'élimination")
    # Not a move: a refused bordereau's items listed again (its history keeps it).
    RELIST = "relist", _("Remettre les éléments en liste")


BORDEREAU_TRANSITIONS: dict[tuple[str, str], str] = {
    (BordereauStatus.DRAFT, BordereauAction.SEND): BordereauStatus.SENT,
    (BordereauStatus.SENT, BordereauAction.APPROVE): BordereauStatus.APPROVED,
    (BordereauStatus.SENT, BordereauAction.REFUSE): BordereauStatus.REFUSED,
    (BordereauStatus.APPROVED, BordereauAction.ELIMINATE): BordereauStatus.ELIMINATING,
    (BordereauStatus.ELIMINATING, BordereauAction.COMPLETE): BordereauStatus.DONE,
}

# A bordereau in one of these holds its items: they are not listed as due again.
HOLDING_STATUSES = (
    BordereauStatus.SENT,
    BordereauStatus.APPROVED,
    BordereauStatus.ELIMINATING,
    BordereauStatus.DONE,
)
# The archives' visa was given.
VISA_STATUSES = (BordereauStatus.APPROVED, BordereauStatus.ELIMINATING, BordereauStatus.DONE)

"""Statuses of a call for projects and the moves allowed between them.

Views and forms never assign ``Call.status``: every move goes through
``aap.services.transition_call``, which consults this table.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CallStatus(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("Publié")
    CLOSED = "closed", _("Clos")
    UNDER_REVIEW = "under_review", _("En instruction")
    DECIDED = "decided", _("Décidé")
    ARCHIVED = "archived", _("Archivé")
    ABANDONED = "abandoned", _("Classé sans suite")


class CallAction(models.TextChoices):
    PUBLISH = "publish", _("Publier")
    UNPUBLISH = "unpublish", _("Retirer la publication")
    CLOSE = "close", _("Clore le dépôt")
    REOPEN = "reopen", _("Rouvrir le dépôt")
    START_REVIEW = "start_review", _("Ouvrir l'instruction")
    DECIDE = "decide", _("Enregistrer les décisions")
    ARCHIVE = "archive", _("Archiver")
    ABANDON = "abandon", _("Classer sans suite")


CALL_TRANSITIONS: dict[tuple[str, str], str] = {
    (CallStatus.DRAFT, CallAction.PUBLISH): CallStatus.PUBLISHED,
    (CallStatus.PUBLISHED, CallAction.UNPUBLISH): CallStatus.DRAFT,
    (CallStatus.PUBLISHED, CallAction.CLOSE): CallStatus.CLOSED,
    (CallStatus.CLOSED, CallAction.REOPEN): CallStatus.PUBLISHED,
    (CallStatus.CLOSED, CallAction.START_REVIEW): CallStatus.UNDER_REVIEW,
    (CallStatus.UNDER_REVIEW, CallAction.DECIDE): CallStatus.DECIDED,
    (CallStatus.DECIDED, CallAction.ARCHIVE): CallStatus.ARCHIVED,
    # « Sans suite »: before any decision is notified (aap.abandon checks the rest).
    (CallStatus.PUBLISHED, CallAction.ABANDON): CallStatus.ABANDONED,
    (CallStatus.CLOSED, CallAction.ABANDON): CallStatus.ABANDONED,
    (CallStatus.UNDER_REVIEW, CallAction.ABANDON): CallStatus.ABANDONED,
    (CallStatus.ABANDONED, CallAction.ARCHIVE): CallStatus.ARCHIVED,
}

# Statuses in which the public can see the call.
PUBLIC_STATUSES = (
    CallStatus.PUBLISHED,
    CallStatus.CLOSED,
    CallStatus.UNDER_REVIEW,
    CallStatus.DECIDED,
    CallStatus.ARCHIVED,
    CallStatus.ABANDONED,
)

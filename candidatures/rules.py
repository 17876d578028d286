"""Who may do what with organisations and dossiers."""

from django.utils import timezone

from candidatures.states import CandidatureStatus
from core import rules as core_rules
from core.rules import role_predicate


def is_member(user, organisation) -> bool:
    if not user.is_authenticated or organisation is None:
        return False
    cache = getattr(user, "_organisation_ids", None)
    if cache is None:
        cache = user._organisation_ids = set(
            user.memberships.values_list("organisation_id", flat=True)
        )
    return organisation.pk in cache


@role_predicate
def can_apply(user, call=None) -> bool:
    return core_rules.is_candidat(user)


def is_dossier_member(user, candidature) -> bool:
    return candidature is not None and is_member(user, candidature.organisation)


def can_read_dossier(user, candidature) -> bool:
    """Members of the organisation, and Département and State staff."""
    return is_dossier_member(user, candidature) or core_rules.is_platform_staff(user)


@role_predicate
def can_read_all_dossiers(user, obj=None) -> bool:
    """Instructeurs and the DDETS read every submitted dossier of every call."""
    return core_rules.is_instructeur(user) or core_rules.is_ddets_reader(user)


@role_predicate
def can_manage_dossiers(user, candidature=None) -> bool:
    """Instructeurs follow dossiers: paper copies, messages, requests for pieces."""
    return core_rules.is_instructeur(user)


def content_is_open(candidature, required_document_id=None, *, when=None) -> bool:
    """Whether the answers and files of ``candidature`` may change now.

    A draft may change while its call takes dossiers. After submission, only the
    documents named in an open request for missing pieces may change, until its due date.
    """
    when = when or timezone.now()
    if candidature.status == CandidatureStatus.DRAFT and candidature.call.is_open(when):
        return True
    if required_document_id is None:
        return False
    return (
        candidature.piece_requests.open_at(when)
        .filter(required_documents__id=required_document_id)
        .exists()
    )


def editable_piece_ids(candidature, *, when=None) -> set[int]:
    """The required documents whose files may change now, in one query at most."""
    when = when or timezone.now()
    if candidature.status == CandidatureStatus.DRAFT and candidature.call.is_open(when):
        return set(candidature.call.required_documents.values_list("pk", flat=True))
    return set(
        candidature.piece_requests.open_at(when).values_list("required_documents__id", flat=True)
    ) - {None}

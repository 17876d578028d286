"""Refusal branches of the call services, one test each."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from aap.models import CallStatusChange, Criterion, Lot, RequiredDocument, SubCriterion
from aap.services import (
    CallNotReady,
    archive_call,
    call_problems,
    close_call,
    publish_call,
    reopen_call,
    unpublish_call,
)
from aap.states import CallStatus
from core.exceptions import DomainError
from tests.factories import CallFactory, add_structure


@pytest.fixture
def draft(db):
    return add_structure(CallFactory(status=CallStatus.DRAFT))


def test_a_complete_draft_is_published_with_its_date(draft, instructeur):
    publish_call(draft, by=instructeur)
    draft.refresh_from_db()
    assert draft.status == CallStatus.PUBLISHED
    assert draft.published_at is not None


def test_publishing_keeps_the_first_publication_date(draft, instructeur):
    first = timezone.now() - dt.timedelta(days=3)
    draft.published_at = first
    draft.save()
    publish_call(draft, by=instructeur)
    draft.refresh_from_db()
    assert draft.published_at == first


def _refused(call, by, expected):
    with pytest.raises(CallNotReady) as refusal:
        publish_call(call, by=by)
    assert expected in refusal.value.problems
    call.refresh_from_db()
    assert call.status == CallStatus.DRAFT
    assert not CallStatusChange.objects.filter(call=call).exists()


def test_publishing_without_lots_is_refused(draft, instructeur):
    Lot.objects.filter(call=draft).delete()
    _refused(draft, instructeur, "Ajoutez au moins un lot.")


def test_publishing_without_criteria_is_refused(draft, instructeur):
    Criterion.objects.filter(call=draft).delete()
    _refused(draft, instructeur, "Ajoutez les critères de sélection.")


def test_publishing_with_weights_not_adding_up_to_100_is_refused(draft, instructeur):
    Criterion.objects.filter(call=draft).update(weight=Decimal("30"))
    _refused(
        draft,
        instructeur,
        "La somme des pondérations doit être égale à 100 % (elle est de 90,00 %).",
    )


def test_publishing_a_criterion_without_subcriteria_is_refused(draft, instructeur):
    criterion = draft.criteria.first()
    SubCriterion.objects.filter(criterion=criterion).delete()
    _refused(draft, instructeur, f"Le critère « {criterion.title} » n'a pas de sous-critère.")


def test_publishing_without_required_documents_is_refused(draft, instructeur):
    RequiredDocument.objects.filter(call=draft).delete()
    _refused(draft, instructeur, "Indiquez les pièces à fournir.")


def test_publishing_without_eligible_kinds_is_refused(draft, instructeur):
    draft.eligible_kinds = []
    draft.save()
    _refused(draft, instructeur, "Indiquez les types de structures éligibles.")


def test_publishing_after_the_deadline_is_refused(draft, instructeur):
    draft.opens_at = timezone.now() - dt.timedelta(days=20)
    draft.deadline = timezone.now() - dt.timedelta(minutes=1)
    draft.save()
    _refused(draft, instructeur, "La date limite de réception des dossiers est déjà passée.")


def test_publishing_a_paper_copy_without_address_is_refused(draft, instructeur):
    draft.paper_copy_required = True
    draft.save()
    _refused(draft, instructeur, "Indiquez l'adresse d'envoi de l'exemplaire papier.")


def test_call_problems_lists_every_gap_at_once(db):
    call = CallFactory(status=CallStatus.DRAFT, eligible_kinds=[])
    assert len(call_problems(call)) == 4


def test_only_instructeurs_publish(draft, candidate, ddets_reader, evaluator):
    for user in (candidate, ddets_reader, evaluator):
        with pytest.raises(PermissionDenied):
            publish_call(draft, by=user)
    draft.refresh_from_db()
    assert draft.status == CallStatus.DRAFT


def test_unpublishing_needs_a_reason(draft, instructeur):
    publish_call(draft, by=instructeur)
    with pytest.raises(DomainError, match="Indiquez pourquoi"):
        unpublish_call(draft, by=instructeur, note="  ")
    unpublish_call(draft, by=instructeur, note="Erreur dans le texte")
    draft.refresh_from_db()
    assert draft.status == CallStatus.DRAFT


def test_closing_before_the_deadline_is_refused(instructeur, open_call):
    with pytest.raises(DomainError, match="pas encore passée"):
        close_call(open_call, by=instructeur)
    open_call.refresh_from_db()
    assert open_call.status == CallStatus.PUBLISHED


def test_reopening_needs_a_future_deadline_and_a_reason(db, instructeur):
    call = CallFactory(
        status=CallStatus.CLOSED,
        opens_at=timezone.now() - dt.timedelta(days=30),
        deadline=timezone.now() - dt.timedelta(days=1),
    )
    future = timezone.now() + dt.timedelta(days=7)
    with pytest.raises(DomainError, match="dans le futur"):
        reopen_call(call, by=instructeur, deadline=timezone.now() - dt.timedelta(hours=1), note="x")
    with pytest.raises(DomainError, match="Indiquez pourquoi"):
        reopen_call(call, by=instructeur, deadline=future, note="")
    reopen_call(call, by=instructeur, deadline=future, note="Report annoncé aux candidats")
    call.refresh_from_db()
    assert (call.status, call.deadline) == (CallStatus.PUBLISHED, future)
    assert call.status_changes.get().note == "Report annoncé aux candidats"


def test_archiving_a_published_call_is_refused(open_call, instructeur):
    with pytest.raises(DomainError):
        archive_call(open_call, by=instructeur)

"""Every (status, action) pair of an agreement and of an instalment, through the one
service that moves each: allowed moves land on the table's status and write history,
the others are refused and change nothing."""

import datetime as dt
import itertools

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.utils import timezone

from conventions import services
from conventions.models import Convention, ConventionStatusChange, Payment, PaymentStatusChange
from conventions.states import (
    CONVENTION_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    ConventionAction,
    ConventionStatus,
    PaymentAction,
    PaymentStatus,
)
from core.exceptions import DomainError, TransitionNotAllowed
from tests.conventions.conftest import sign


def test_every_convention_status_and_action_pair(convention, instructeur):
    checked = 0
    for status, action in itertools.product(ConventionStatus, ConventionAction):
        Convention.objects.filter(pk=convention.pk).update(status=status)
        convention.refresh_from_db()
        history = ConventionStatusChange.objects.count()
        target = CONVENTION_TRANSITIONS.get((status, action))
        if target is None:
            with pytest.raises(TransitionNotAllowed):
                services.transition_convention(convention, action, by=instructeur)
            convention.refresh_from_db()
            assert convention.status == status, (status, action)
            assert ConventionStatusChange.objects.count() == history
        else:
            services.transition_convention(convention, action, by=instructeur, note="test")
            assert convention.status == target  # the caller's object follows
            convention.refresh_from_db()
            assert convention.status == target, (status, action)
            change = ConventionStatusChange.objects.latest("pk")
            assert (change.action, change.from_status, change.to_status, change.by) == (
                action,
                status,
                target,
                instructeur,
            )
            checked += 1
    assert checked == len(CONVENTION_TRANSITIONS) == 7


def test_only_instructeurs_move_an_agreement(convention, ddets_reader, candidate, evaluator):
    for user in (ddets_reader, candidate, evaluator):
        with pytest.raises(PermissionDenied):
            services.transition_convention(convention, ConventionAction.SEND, by=user)
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.DRAFT


def test_the_wrappers_walk_draft_to_settled(convention, instructeur):
    services.send_for_signature(convention, by=instructeur)
    services.back_to_draft(convention, by=instructeur, note="Montant à revoir")
    sign(convention, instructeur, start=True)
    for payment in convention.payments.all():
        for action in PaymentAction:
            services.move_payment(
                payment, action, by=instructeur, on=timezone.localdate(), reference="M-1"
            )
    for report in convention.reports.all():
        report.file.save("bilan.pdf", ContentFile(b"%PDF-1.4"), save=True)
        services.accept_report(report, by=instructeur)
    services.settle_convention(convention, by=instructeur)
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.SETTLED
    assert list(convention.status_changes.values_list("action", flat=True)) == [
        "send",
        "back_to_draft",
        "send",
        "sign",
        "start",
        "settle",
    ]
    assert convention.status_changes.get(action="back_to_draft").note == "Montant à revoir"


def test_terminate_needs_a_reason_and_keeps_it(signed, instructeur):
    with pytest.raises(DomainError, match="motif"):
        services.terminate_convention(signed, by=instructeur, reason="  ")
    services.terminate_convention(signed, by=instructeur, reason="Cessation d'activité")
    signed.refresh_from_db()
    assert signed.status == ConventionStatus.TERMINATED
    assert signed.termination_reason == "Cessation d'activité"
    assert signed.status_changes.latest("pk").note == "Cessation d'activité"


def test_every_payment_status_and_action_pair(signed, instructeur):
    payment = signed.payments.first()
    today = timezone.localdate()
    checked = 0
    for status, action in itertools.product(PaymentStatus, PaymentAction):
        Payment.objects.filter(pk=payment.pk).update(status=status)
        payment.refresh_from_db()
        history = PaymentStatusChange.objects.count()
        target = PAYMENT_TRANSITIONS.get((status, action))
        if target is None:
            with pytest.raises(TransitionNotAllowed):
                services.move_payment(payment, action, by=instructeur, on=today, reference="M-9")
            payment.refresh_from_db()
            assert payment.status == status, (status, action)
            assert PaymentStatusChange.objects.count() == history
        else:
            services.move_payment(payment, action, by=instructeur, on=today, reference="M-9")
            payment.refresh_from_db()
            assert payment.status == target, (status, action)
            assert getattr(payment, services.DATE_FIELD[action]) == today
            change = PaymentStatusChange.objects.latest("pk")
            assert (change.from_status, change.to_status, change.by) == (
                status,
                target,
                instructeur,
            )
            checked += 1
    assert checked == len(PAYMENT_TRANSITIONS) == 3
    assert payment.accounting_reference == "M-9"


def test_an_order_needs_its_accounting_reference(signed, instructeur):
    payment = signed.payments.first()
    services.move_payment(payment, PaymentAction.REQUEST, by=instructeur, on=timezone.localdate())
    with pytest.raises(DomainError, match="référence comptable"):
        services.move_payment(
            payment, PaymentAction.ORDER, by=instructeur, on=timezone.localdate(), reference=" "
        )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUESTED


def test_payments_wait_for_the_signature_and_refuse_future_dates(convention, instructeur):
    payment = convention.payments.first()
    with pytest.raises(DomainError, match="suivent la signature"):
        services.move_payment(
            payment, PaymentAction.REQUEST, by=instructeur, on=timezone.localdate()
        )
    sign(convention, instructeur)
    with pytest.raises(DomainError, match="futur"):
        services.move_payment(
            payment,
            PaymentAction.REQUEST,
            by=instructeur,
            on=timezone.localdate() + dt.timedelta(days=1),
        )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PLANNED

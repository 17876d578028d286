"""Every (status, action) pair of an agreement, an instalment, a report and an avenant,
through the workflow that moves each: allowed moves land on the table's status and write
history, the others are refused and change nothing."""

import datetime as dt
import itertools

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from conventions import services
from conventions.models import (
    Amendment,
    AmendmentStatusChange,
    Convention,
    ConventionStatusChange,
    Payment,
    PaymentStatusChange,
    Report,
    ReportStatusChange,
)
from conventions.services.payments import DATE_FIELD
from conventions.states import (
    AMENDMENT_TRANSITIONS,
    CONVENTION_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    REPORT_TRANSITIONS,
    AmendmentAction,
    AmendmentStatus,
    ConventionAction,
    ConventionStatus,
    PaymentAction,
    PaymentStatus,
    ReportAction,
    ReportKind,
    ReportStatus,
)
from core.exceptions import DomainError, TransitionNotAllowed
from tests.conventions.conftest import accept, sign


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


def test_the_wrappers_walk_draft_to_settled(convention, instructeur, candidate):
    services.send_for_signature(convention, by=instructeur)
    services.back_to_draft(convention, by=instructeur, note="Montant à revoir")
    sign(convention, instructeur, start=True)
    for kind in ReportKind:
        accept(convention, kind, candidate, instructeur)
    for payment in convention.payments.all():
        for action in PaymentAction:
            services.move_payment(
                payment, action, by=instructeur, on=timezone.localdate(), reference="M-1"
            )
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
    withdrawn = convention.status_changes.get(action="back_to_draft").note
    assert withdrawn.startswith("Montant à revoir Version envoyée le 6 décembre 2026 à 10h00")


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
            assert getattr(payment, DATE_FIELD[action]) == today
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


@pytest.mark.parametrize(
    ("model", "history", "workflow", "statuses", "actions", "table"),
    [
        (
            Report,
            ReportStatusChange,
            services.report_workflow,
            ReportStatus,
            ReportAction,
            REPORT_TRANSITIONS,
        ),
        (
            Amendment,
            AmendmentStatusChange,
            services.amendment_workflow,
            AmendmentStatus,
            AmendmentAction,
            AMENDMENT_TRANSITIONS,
        ),
    ],
    ids=["report", "amendment"],
)
def test_every_report_and_amendment_status_and_action_pair(
    signed, instructeur, model, history, workflow, statuses, actions, table
):
    obj = (
        signed.reports.get(kind=ReportKind.INTERMEDIATE)
        if model is Report
        else services.prepare_amendment(signed, by=instructeur)
    )
    checked = 0
    for status, action in itertools.product(statuses, actions):
        model.objects.filter(pk=obj.pk).update(status=status)
        obj.refresh_from_db()
        before = history.objects.count()
        target = table.get((status, action))
        if target is None:
            with pytest.raises(TransitionNotAllowed):
                workflow.apply(obj, action, by=instructeur)
            obj.refresh_from_db()
            assert obj.status == status, (status, action)
            assert history.objects.count() == before
        else:
            workflow.apply(obj, action, by=instructeur, note="test")
            obj.refresh_from_db()
            assert obj.status == target, (status, action)
            change = history.objects.latest("pk")
            assert (change.action, change.from_status, change.to_status, change.by) == (
                action,
                status,
                target,
                instructeur,
            )
            checked += 1
    assert checked == len(table)

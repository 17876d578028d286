"""Each instalment's condition is checked before it is requested, ordered or paid: at
signature, after the intermediate report is accepted, after the final report and the
compte rendu financier (CERFA 15059) are accepted, or from a date. Refusals say why in
French and change nothing."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from conventions import services
from conventions.models import Payment
from conventions.states import PaymentCondition, PaymentStatus, ReportKind
from core.exceptions import DomainError
from tests.conventions.conftest import TODAY, accept, pay, pdf_upload, sign


def draft_schedule(convention, by, *instalments):
    """The draft's schedule replaced by ``instalments`` (label, amount, condition, date)."""
    Payment.objects.filter(convention=convention).delete()  # a draft's schedule, redone
    for label, amount, condition, condition_date in instalments:
        services.save_payment(
            convention,
            by=by,
            label=label,
            due_on=condition_date or dt.date(2027, 6, 30),
            amount=amount,
            condition=condition,
            condition_date=condition_date,
        )


def test_the_balance_waits_for_the_final_report_and_the_financial_account(
    signed, instructeur, candidate
):
    balance = signed.payments.get(label="Solde")
    assert balance.condition == PaymentCondition.FINAL_REPORTS
    with pytest.raises(DomainError) as refused:
        services.move_payment(balance, "request", by=instructeur, on=TODAY)
    assert refused.value.message == (
        "« Solde » ne peut pas encore être demandé ni mandaté : il est versé après la "
        "validation du bilan final et du compte rendu financier (CERFA n° 15059). Pas encore "
        "validé : bilan final, compte rendu financier (CERFA n° 15059)."
    )
    final = signed.reports.get(kind=ReportKind.FINAL)
    services.submit_report(final, by=candidate, uploaded=pdf_upload("bilan-final.pdf"))
    with pytest.raises(DomainError, match="Pas encore validé : bilan final, compte rendu"):
        services.move_payment(balance, "request", by=instructeur, on=TODAY)  # sent, not accepted
    services.accept_report(final, by=instructeur)
    with pytest.raises(DomainError, match=r"Pas encore validé : compte rendu financier"):
        services.move_payment(balance, "request", by=instructeur, on=TODAY)
    balance.refresh_from_db()
    assert balance.status == PaymentStatus.PLANNED and not balance.status_changes.exists()
    accept(signed, ReportKind.FINANCIAL, candidate, instructeur)
    pay(balance, instructeur)
    balance.refresh_from_db()
    assert balance.status == PaymentStatus.PAID


def test_an_instalment_after_the_intermediate_report(convention, instructeur, candidate):
    draft_schedule(
        convention,
        instructeur,
        ("Avance", Decimal("10000"), PaymentCondition.SIGNATURE, None),
        ("Deuxième versement", Decimal("14500"), PaymentCondition.INTERMEDIATE_REPORT, None),
    )
    sign(convention, instructeur, start=True)
    second = convention.payments.get(label="Deuxième versement")
    with pytest.raises(DomainError, match="après la validation du bilan intermédiaire"):
        services.move_payment(second, "request", by=instructeur, on=TODAY)
    report = convention.reports.get(kind=ReportKind.INTERMEDIATE)
    services.submit_report(report, by=candidate, uploaded=pdf_upload("bilan.pdf"))
    services.send_back_report(report, by=instructeur, reason="Incomplet")
    with pytest.raises(DomainError, match="bilan intermédiaire"):
        services.move_payment(second, "request", by=instructeur, on=TODAY)
    services.submit_report(report, by=candidate, uploaded=pdf_upload("bilan-v2.pdf"))
    services.accept_report(report, by=instructeur)
    services.move_payment(second, "request", by=instructeur, on=TODAY)
    second.refresh_from_db()
    assert second.status == PaymentStatus.REQUESTED


def test_an_instalment_from_a_date_is_requested_and_ordered_from_that_day(convention, instructeur):
    draft_schedule(
        convention,
        instructeur,
        ("Avance", Decimal("20000"), PaymentCondition.SIGNATURE, None),
        ("Versement de mars", Decimal("4500"), PaymentCondition.DATE, dt.date(2027, 3, 1)),
    )
    sign(convention, instructeur, start=True)
    march = convention.payments.get(label="Versement de mars")
    assert march.condition_label == "À partir du 1 mars 2027"
    with pytest.raises(DomainError, match="avant le 1 mars 2027"):
        services.move_payment(march, "request", by=instructeur, on=TODAY)
    with time_machine.travel(dt.datetime(2027, 3, 2, 9, 0), tick=True):
        with pytest.raises(DomainError, match="avant le 1 mars 2027"):
            services.move_payment(march, "request", by=instructeur, on=dt.date(2027, 2, 28))
        services.move_payment(march, "request", by=instructeur, on=dt.date(2027, 3, 1))
        services.move_payment(
            march, "order", by=instructeur, on=dt.date(2027, 3, 2), reference="MANDAT-3"
        )
    march.refresh_from_db()
    assert (march.status, march.requested_on) == (PaymentStatus.ORDERED, dt.date(2027, 3, 1))


def test_no_payment_before_the_signature(convention, instructeur):
    advance = convention.payments.get(label="Avance à la signature")
    with pytest.raises(DomainError, match="suivent la signature"):
        services.move_payment(advance, "request", by=instructeur, on=TODAY)
    assert advance.status_changes.count() == 0


def test_a_date_condition_needs_its_date(convention, instructeur):
    with pytest.raises(DomainError, match="Indiquez la date"):
        services.save_payment(
            convention,
            by=instructeur,
            payment=convention.payments.get(label="Solde"),
            label="Solde",
            due_on=dt.date(2028, 3, 31),
            amount=Decimal("12250"),
            condition=PaymentCondition.DATE,
        )

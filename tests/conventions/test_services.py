"""The services of agreements, one test per refusal: creation, the payment ceiling, the
renewal copy, the signature, settlement, reports and indicators."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone

from conventions import services
from conventions.models import Convention, FundingTerms, IndicatorValue, Payment, Report
from conventions.states import ConventionStatus, PaymentStatus, ReportKind
from core.exceptions import DomainError
from core.roles import Role
from demo import modeles
from evaluation.models import Decision
from tests.conventions.conftest import (
    AMOUNT,
    FTE,
    ORGANISATION,
    lower_balance,
    pay,
    pdf_upload,
    select,
    sign,
)
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

DOCX = modeles.funding_request_docx()


# --- Creation ------------------------------------------------------------------------------------


def test_a_selected_decision_gives_a_draft_with_its_schedule_and_reports(
    selected_decision, instructeur
):
    FundingTerms.objects.create(
        call=selected_decision.candidature.call, advance_percent=Decimal("60"), advance_days=15
    )
    convention = services.create_convention(selected_decision, by=instructeur, year=2025)
    assert convention.status == ConventionStatus.DRAFT
    assert (convention.year, convention.period_start, convention.period_end) == (
        2025,
        dt.date(2025, 1, 1),
        dt.date(2025, 12, 31),
    )
    assert (convention.amount, convention.fte) == (AMOUNT, FTE)
    assert convention.beneficiary_name == ORGANISATION
    assert convention.beneficiary_siret == "73282932000074"
    assert convention.representative_name == "Claire Présidente"
    assert convention.number.startswith("CONV-2025-")
    assert "60,00 %" in convention.payment_terms and "15 jours" in convention.payment_terms
    assert list(convention.payments.values_list("label", "amount", "due_on")) == [
        ("Avance à la signature", Decimal("14700.00"), dt.date(2025, 1, 16)),
        ("Solde", Decimal("9800.00"), dt.date(2026, 3, 31)),
    ]
    assert list(convention.reports.values_list("kind", "due_on")) == [
        (ReportKind.INTERMEDIATE, dt.date(2025, 7, 15)),
        (ReportKind.FINAL, dt.date(2026, 1, 31)),
    ]


def test_only_a_selected_decision_makes_an_agreement_once_a_year(
    selected_decision, instructeur, ddets_reader
):
    with pytest.raises(PermissionDenied):
        services.create_convention(selected_decision, by=ddets_reader, year=2025)
    services.create_convention(selected_decision, by=instructeur, year=2025)
    with pytest.raises(DomainError, match="existe déjà"):
        services.create_convention(selected_decision, by=instructeur, year=2025)
    Decision.objects.filter(pk=selected_decision.pk).update(outcome="waiting_list")
    selected_decision.refresh_from_db()
    with pytest.raises(DomainError, match="dossier retenu"):
        services.create_convention(selected_decision, by=instructeur, year=2026)
    assert Convention.objects.count() == 1


# --- The payment ceiling ----------------------------------------------------------------------------


def scheduled(convention):
    return sum(convention.payments.values_list("amount", flat=True), Decimal(0))


def test_adding_an_instalment_never_exceeds_the_amount(convention, instructeur):
    services.delete_payment(convention.payments.get(label="Solde"), by=instructeur)
    room = AMOUNT - scheduled(convention)
    with pytest.raises(DomainError, match="dépasseraient le montant"):
        services.save_payment(
            convention,
            by=instructeur,
            label="Solde",
            due_on=dt.date(2026, 3, 31),
            amount=room + Decimal("0.01"),
        )
    services.save_payment(
        convention, by=instructeur, label="Solde", due_on=dt.date(2026, 3, 31), amount=room
    )
    assert scheduled(convention) == AMOUNT


def test_editing_an_instalment_is_checked_without_counting_it_twice(convention, instructeur):
    balance = convention.payments.get(label="Solde")
    services.save_payment(
        convention,
        by=instructeur,
        payment=balance,
        label="Solde",
        due_on=balance.due_on,
        amount=balance.amount,  # the same amount: the schedule stays at the ceiling
    )
    with pytest.raises(DomainError, match="dépasseraient"):
        services.save_payment(
            convention,
            by=instructeur,
            payment=balance,
            label="Solde",
            due_on=balance.due_on,
            amount=balance.amount + Decimal("0.01"),
        )
    balance.refresh_from_db()
    assert scheduled(convention) == AMOUNT


def test_a_requested_instalment_no_longer_changes(signed, instructeur):
    advance = signed.payments.get(label="Avance à la signature")
    services.move_payment(advance, "request", by=instructeur, on=timezone.localdate())
    advance.refresh_from_db()
    with pytest.raises(DomainError, match="déjà demandé"):
        services.save_payment(
            signed, by=instructeur, payment=advance, label="x", due_on=advance.due_on, amount=1
        )
    with pytest.raises(DomainError, match="déjà demandé"):
        services.delete_payment(advance, by=instructeur)


def test_an_amendment_cannot_lower_the_amount_below_the_schedule(signed, instructeur):
    with pytest.raises(DomainError, match="Réduisez d'abord l'échéancier"):
        services.add_amendment(
            signed,
            by=instructeur,
            signed_on=timezone.localdate(),
            changes="Baisse",
            amount_after=AMOUNT - Decimal("1000"),
            period_end_after=signed.period_end,
        )
    lower_balance(signed, instructeur, Decimal("1000"))
    amendment = services.add_amendment(
        signed,
        by=instructeur,
        signed_on=timezone.localdate(),
        changes="Baisse de 1 000 € : une action abandonnée.",
        amount_after=AMOUNT - Decimal("1000"),
        period_end_after=dt.date(signed.year + 1, 3, 31),
    )
    signed.refresh_from_db()
    assert (amendment.number, amendment.amount_before, amendment.amount_after) == (
        1,
        AMOUNT,
        AMOUNT - Decimal("1000"),
    )
    assert signed.amount == AMOUNT - Decimal("1000")
    assert signed.period_end == dt.date(signed.year + 1, 3, 31)


def test_an_amendment_needs_a_signed_agreement_and_words(convention, instructeur):
    kwargs = {
        "by": instructeur,
        "signed_on": timezone.localdate(),
        "amount_after": AMOUNT,
        "period_end_after": convention.period_end,
    }
    with pytest.raises(DomainError, match="convention signée"):
        services.add_amendment(convention, changes="x", **kwargs)
    sign(convention, instructeur)
    with pytest.raises(DomainError, match="Décrivez"):
        services.add_amendment(convention, changes=" ", **kwargs)


@pytest.mark.django_db(transaction=True)
def test_two_instalments_added_at_once_never_exceed_the_amount():
    """Both fit alone, not together: the agreement's row lock makes the second wait and
    count the first."""
    instructeur = UserFactory(roles=[Role.INSTRUCTEUR])
    member = UserFactory(roles=[Role.CANDIDAT])
    organisation = OrganisationFactory(members=[member])
    decision = select(dossier_ready_call(), organisation, member, by=instructeur)
    convention = services.create_convention(decision, by=instructeur, year=2025)
    Payment.objects.filter(convention=convention).delete()
    barrier = threading.Barrier(2)
    outcomes = []

    def add(label):
        try:
            barrier.wait()
            services.save_payment(
                Convention.objects.get(pk=convention.pk),
                by=instructeur,
                label=label,
                due_on=dt.date(2025, 6, 30),
                amount=Decimal("15000"),
            )
            outcomes.append("added")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=add, args=(f"Versement {n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["added", "refused"]
    assert scheduled(convention) == Decimal("15000")


# --- Renewal -----------------------------------------------------------------------------------------


def test_the_renewal_is_a_linked_draft_of_next_year(signed, instructeur):
    pay(signed.payments.get(label="Avance à la signature"), instructeur)
    renewal = services.renew_convention(signed, by=instructeur)
    assert renewal.renews == signed
    assert renewal.year == signed.year + 1
    assert (renewal.period_start, renewal.period_end) == (
        dt.date(signed.year + 1, 1, 1),
        dt.date(signed.year + 1, 12, 31),
    )
    assert renewal.status == ConventionStatus.DRAFT
    assert (renewal.amount, renewal.fte, renewal.object) == (
        signed.amount,
        signed.fte,
        signed.object,
    )
    assert (renewal.candidature, renewal.lot, renewal.organisation) == (
        signed.candidature,
        signed.lot,
        signed.organisation,
    )
    assert renewal.number != signed.number
    assert renewal.number.startswith(f"CONV-{signed.year + 1}-")
    assert renewal.signed_on is None and not renewal.signed_scan
    # A new schedule, nothing paid, and the reports of the new year.
    assert list(renewal.payments.values_list("status", "due_on")) == [
        (PaymentStatus.PLANNED, dt.date(signed.year + 1, 1, 31)),
        (PaymentStatus.PLANNED, dt.date(signed.year + 2, 3, 31)),
    ]
    assert sum(renewal.payments.values_list("amount", flat=True)) == renewal.amount
    assert renewal.reports.count() == 2
    assert not renewal.status_changes.exists()
    with pytest.raises(DomainError, match="déjà été reconduite"):
        services.renew_convention(signed, by=instructeur)
    assert Convention.objects.filter(renews=signed).count() == 1


def test_a_terminated_agreement_is_not_renewed(signed, instructeur, ddets_reader):
    with pytest.raises(PermissionDenied):
        services.renew_convention(signed, by=ddets_reader)
    services.terminate_convention(signed, by=instructeur, reason="Fin de l'action")
    with pytest.raises(DomainError, match="résiliée"):
        services.renew_convention(signed, by=instructeur)


# --- Signature ---------------------------------------------------------------------------------------


def test_the_signature_keeps_the_scan_and_the_date(convention, instructeur):
    services.send_for_signature(convention, by=instructeur)
    signed_on = timezone.localdate() - dt.timedelta(days=2)
    services.record_signature(
        convention, by=instructeur, signed_on=signed_on, uploaded=pdf_upload()
    )
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.SIGNED
    assert convention.signed_on == signed_on
    assert convention.signed_scan_name == "convention-signee.pdf"
    with convention.signed_scan.open("rb") as scan:
        assert scan.read().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("convention.docx", DOCX, "n'est pas accepté"),
        ("convention.pdf", DOCX, "ne correspond pas"),  # a Word file renamed
        ("convention.pdf", b"", "vide"),
    ],
)
def test_the_signature_refuses_anything_but_a_pdf(convention, instructeur, name, content, message):
    services.send_for_signature(convention, by=instructeur)
    with pytest.raises(DomainError, match=message):
        services.record_signature(
            convention,
            by=instructeur,
            signed_on=timezone.localdate(),
            uploaded=SimpleUploadedFile(name, content),
        )
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.SENT
    assert not convention.signed_scan


def test_the_signature_refuses_a_future_date(convention, instructeur):
    services.send_for_signature(convention, by=instructeur)
    with pytest.raises(DomainError, match="futur"):
        services.record_signature(
            convention,
            by=instructeur,
            signed_on=timezone.localdate() + dt.timedelta(days=1),
            uploaded=pdf_upload(),
        )
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.SENT
    assert convention.signed_on is None


def test_the_signature_follows_the_sending(convention, instructeur):
    with pytest.raises(DomainError, match="doit d'abord être envoyée pour signature"):
        services.record_signature(
            convention, by=instructeur, signed_on=timezone.localdate(), uploaded=pdf_upload()
        )
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.DRAFT
    assert not convention.signed_scan


# --- Settlement --------------------------------------------------------------------------------------


def test_settling_waits_for_every_payment_and_the_final_report(signed, instructeur, candidate):
    advance, balance = signed.payments.order_by("position")
    pay(advance, instructeur)
    with pytest.raises(DomainError, match="pas encore versés"):
        services.settle_convention(signed, by=instructeur)
    pay(balance, instructeur, reference="MANDAT-2")
    with pytest.raises(DomainError, match="bilan final"):
        services.settle_convention(signed, by=instructeur)
    final = signed.reports.get(kind=ReportKind.FINAL)
    services.submit_report(final, by=candidate, uploaded=pdf_upload("bilan-final.pdf"))
    with pytest.raises(DomainError, match="bilan final"):  # received, not yet accepted
        services.settle_convention(signed, by=instructeur)
    services.accept_report(final, by=instructeur)
    services.settle_convention(signed, by=instructeur)
    signed.refresh_from_db()
    assert signed.status == ConventionStatus.SETTLED


# --- Reports -------------------------------------------------------------------------------------------


def test_a_member_uploads_a_report_until_it_is_accepted(
    signed, candidate, other_candidate, instructeur
):
    report = signed.reports.get(kind=ReportKind.INTERMEDIATE)
    for outsider in (other_candidate, instructeur):
        with pytest.raises(PermissionDenied):
            services.submit_report(report, by=outsider, uploaded=pdf_upload("bilan.pdf"))
    with pytest.raises(DomainError, match="ne correspond pas"):
        services.submit_report(report, by=candidate, uploaded=SimpleUploadedFile("b.pdf", DOCX))
    with pytest.raises(DomainError, match="pas encore été remis"):
        services.accept_report(report, by=instructeur)
    services.submit_report(report, by=candidate, uploaded=SimpleUploadedFile("bilan.docx", DOCX))
    report.refresh_from_db()
    assert (report.file_name, report.submitted_by) == ("bilan.docx", candidate)
    assert len(report.sha256) == 64
    services.accept_report(report, by=instructeur)
    with pytest.raises(DomainError, match="déjà validé"):
        services.submit_report(report, by=candidate, uploaded=pdf_upload("autre.pdf"))
    assert Report.objects.get(pk=report.pk).file_name == "bilan.docx"


# --- Indicators -----------------------------------------------------------------------------------------


def test_indicators_are_reported_by_a_member_during_execution(
    convention, indicators, candidate, other_candidate, ddets_reader, evaluator, instructeur
):
    meetings = indicators[0]
    with pytest.raises(DomainError, match="pendant l'exécution"):
        services.report_indicator(convention, meetings, by=candidate, period=1, value=Decimal(2))
    sign(convention, instructeur, start=True)
    for outsider in (other_candidate, ddets_reader, evaluator):
        with pytest.raises(PermissionDenied):
            services.report_indicator(convention, meetings, by=outsider, period=1, value=Decimal(2))
    with pytest.raises(DomainError, match="négative"):
        services.report_indicator(convention, meetings, by=candidate, period=1, value=Decimal(-1))
    services.report_indicator(convention, meetings, by=candidate, period=1, value=Decimal(2))
    services.report_indicator(
        convention, meetings, by=candidate, period=1, value=Decimal(3), comment="Corrigé"
    )
    entry = IndicatorValue.objects.get()
    assert (entry.value, entry.comment, entry.entered_by) == (Decimal(3), "Corrigé", candidate)


def test_an_indicator_of_another_call_is_refused(signed, candidate, indicators):
    from conventions.models import Indicator

    foreign = Indicator.objects.create(
        call=dossier_ready_call(), label="Autre appel", target=Decimal(1)
    )
    with pytest.raises(PermissionDenied):
        services.report_indicator(signed, foreign, by=candidate, period=1, value=Decimal(1))


def test_the_series_cumulates_the_quarters_against_the_target(signed, candidate, indicators):
    from conventions.queries import convention_page, indicator_series

    meetings = indicators[0]
    for period, value in [(1, 2), (2, 1), (4, 3)]:
        services.report_indicator(
            signed, meetings, by=candidate, period=period, value=Decimal(value)
        )
    page = convention_page(Convention.objects.filter(pk=signed.pk)).get()
    series = {item["indicator"]: item for item in indicator_series(page)}
    assert series[meetings]["values"] == [2, 1, None, 3]
    assert series[meetings]["cumulated"] == [2, 3, 3, 6]
    assert series[meetings]["share"] == 75
    assert series[indicators[1]]["cumulated"] == [None, None, None, None]


# --- Reviews -----------------------------------------------------------------------------------------------


def test_reviews_are_scheduled_recorded_and_remarked(signed, instructeur, ddets_reader, candidate):
    when = timezone.now() + dt.timedelta(days=3)
    with pytest.raises(PermissionDenied):
        services.schedule_review(
            signed, by=ddets_reader, scheduled_at=when, place="", participants="x"
        )
    review = services.schedule_review(
        signed,
        by=instructeur,
        scheduled_at=when,
        place="Grenoble",
        participants="Département, DDETS",
    )
    with pytest.raises(PermissionDenied):
        services.record_review(review, by=ddets_reader, minutes="x", adjustments="")
    with pytest.raises(DomainError, match="vide"):
        services.record_review(review, by=instructeur, minutes=" ", adjustments="")
    services.record_review(review, by=instructeur, minutes="Bon avancement.", adjustments="Aucun")
    assert review.held
    with pytest.raises(PermissionDenied):
        services.add_remark(review, by=candidate, text="Moi aussi")
    with pytest.raises(DomainError, match="remarque"):
        services.add_remark(review, by=ddets_reader, text=" ")
    remark = services.add_remark(review, by=ddets_reader, text="Vigilance sur le Vercors.")
    assert (remark.author, remark.text) == (ddets_reader, "Vigilance sur le Vercors.")

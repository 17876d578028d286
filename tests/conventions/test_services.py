"""The services of agreements, one test per refusal: creation and its dates, the draft's
schedule and its ceiling, the renewal copy, the signature, settlement, reports and their
review, indicators."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from conventions import services
from conventions.models import (
    Convention,
    FundingTerms,
    Indicator,
    IndicatorValue,
    Payment,
    Report,
    UnsoundDate,
)
from conventions.queries import convention_page, indicator_series
from conventions.states import (
    ConventionStatus,
    IndicatorKind,
    PaymentCondition,
    PaymentStatus,
    ReportKind,
    ReportStatus,
)
from core.exceptions import DomainError, TransitionNotAllowed
from core.roles import Role
from demo import modeles
from evaluation.models import Decision
from tests.conventions.conftest import (
    AMOUNT,
    END,
    FTE,
    ORGANISATION,
    START,
    TODAY,
    accept,
    lower_balance,
    pay,
    pdf_upload,
    select,
    sign,
)
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

DOCX = modeles.funding_request_docx()


# --- Creation ------------------------------------------------------------------------------------


def test_a_selected_decision_gives_a_draft_that_starts_after_it(selected_decision, instructeur):
    FundingTerms.objects.create(
        call=selected_decision.candidature.call, advance_percent=Decimal("60"), advance_days=15
    )
    convention = services.create_convention(selected_decision, by=instructeur)
    assert convention.status == ConventionStatus.DRAFT
    # Decided on 6 December 2026: from the first day of the next month, for twelve months.
    assert (convention.decision_date, convention.period_start, convention.period_end) == (
        TODAY,
        START,
        END,
    )
    assert convention.year == 2027
    assert (convention.amount, convention.fte) == (AMOUNT, FTE)
    assert convention.beneficiary_name == ORGANISATION
    assert convention.beneficiary_siret == "73282932000074"
    assert convention.representative_name == "Claire Présidente"
    assert convention.number.startswith("CONV-2027-")
    # The call's data in place in the article, as the Département writes a percentage.
    assert "Une avance de 60\xa0% du montant" in convention.payment_terms
    assert "15 jours" in convention.payment_terms
    assert list(convention.payments.values_list("label", "amount", "due_on", "condition")) == [
        ("Avance à la signature", Decimal("14700.00"), dt.date(2027, 1, 16), "signature"),
        ("Solde", Decimal("9800.00"), dt.date(2028, 3, 31), "final_reports"),
    ]
    assert list(convention.reports.values_list("kind", "due_on")) == [
        (ReportKind.INTERMEDIATE, dt.date(2027, 7, 16)),
        (ReportKind.FINAL, dt.date(2028, 1, 31)),
        (ReportKind.FINANCIAL, dt.date(2028, 1, 31)),
    ]


def test_an_agreement_prepared_on_6_december_2026_never_runs_from_1_january_2026(
    selected_decision, instructeur
):
    with pytest.raises(DomainError, match="avant la décision du 6 décembre 2026"):
        services.create_convention(
            selected_decision,
            by=instructeur,
            period_start=dt.date(2026, 1, 1),
            period_end=dt.date(2026, 12, 31),
        )
    assert not Convention.objects.exists()
    # The day of the decision itself is allowed.
    convention = services.create_convention(
        selected_decision, by=instructeur, period_start=TODAY, period_end=dt.date(2027, 12, 5)
    )
    assert convention.payments.get(label="Avance à la signature").due_on == dt.date(2027, 1, 5)


def test_a_date_before_the_decision_is_refused_by_the_model_layer(convention, instructeur):
    """The shell and the admin meet the rule too: the start, an instalment's due date, a
    date condition, a report's due date, and the database's own check."""
    convention.period_start = dt.date(2026, 1, 1)
    with pytest.raises(UnsoundDate, match="précède la décision du 6 décembre 2026"):
        convention.save()
    advance = convention.payments.get(label="Avance à la signature")
    advance.due_on = dt.date(2026, 1, 31)
    with pytest.raises(UnsoundDate, match="L'échéance « Avance à la signature »"):
        advance.save()
    with pytest.raises(UnsoundDate, match="précède la décision"):
        services.save_payment(
            convention,
            by=instructeur,
            payment=advance,
            label="Avance",
            due_on=dt.date(2027, 1, 31),
            amount=advance.amount,
            condition=PaymentCondition.DATE,
            condition_date=dt.date(2026, 11, 30),
        )
    report = convention.reports.get(kind=ReportKind.INTERMEDIATE)
    report.due_on = dt.date(2026, 7, 15)
    with pytest.raises(UnsoundDate):
        report.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Convention.objects.filter(pk=convention.pk).update(period_start=dt.date(2026, 1, 1))
    convention.refresh_from_db()
    assert convention.period_start == START
    assert convention.payments.get(label="Avance à la signature").due_on == dt.date(2027, 1, 31)


def test_the_draft_period_and_texts_are_edited_before_sending(convention, instructeur):
    with pytest.raises(DomainError, match="avant la décision"):
        services.update_draft(
            convention,
            by=instructeur,
            period_start=dt.date(2026, 11, 1),
            period_end=dt.date(2027, 10, 31),
        )
    services.update_draft(
        convention,
        by=instructeur,
        period_start=dt.date(2027, 3, 1),
        period_end=dt.date(2028, 2, 29),
        object="Co-animer le réseau des facilitateurs du Sud Isère.",
        subsidy_share=Decimal("0.8"),
    )
    convention.refresh_from_db()
    assert (convention.period_start, convention.period_end, convention.year) == (
        dt.date(2027, 3, 1),
        dt.date(2028, 2, 29),
        2027,
    )
    assert convention.object == "Co-animer le réseau des facilitateurs du Sud Isère."
    # The schedule and the reports follow the new period.
    assert convention.payments.get(label="Solde").due_on == dt.date(2028, 5, 29)
    assert convention.reports.get(kind=ReportKind.FINAL).due_on == dt.date(2028, 3, 29)
    services.send_for_signature(convention, by=instructeur)
    with pytest.raises(DomainError, match="son texte ne change plus"):
        services.update_draft(
            convention, by=instructeur, period_start=START, period_end=END, object="Autre"
        )


def test_only_a_selected_decision_makes_an_agreement_once_a_year(
    selected_decision, instructeur, ddets_reader
):
    with pytest.raises(PermissionDenied):
        services.create_convention(selected_decision, by=ddets_reader)
    services.create_convention(selected_decision, by=instructeur)
    with pytest.raises(DomainError, match="existe déjà"):
        services.create_convention(selected_decision, by=instructeur)
    Decision.objects.filter(pk=selected_decision.pk).update(outcome="waiting_list")
    selected_decision.refresh_from_db()
    with pytest.raises(DomainError, match="dossier retenu"):
        services.create_convention(
            selected_decision,
            by=instructeur,
            period_start=dt.date(2028, 1, 1),
            period_end=dt.date(2028, 12, 31),
        )
    assert Convention.objects.count() == 1


# --- The payment schedule of a draft ------------------------------------------------------------------


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
            due_on=dt.date(2028, 3, 31),
            amount=room + Decimal("0.01"),
        )
    services.save_payment(
        convention, by=instructeur, label="Solde", due_on=dt.date(2028, 3, 31), amount=room
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
        condition=balance.condition,
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


def test_a_draft_is_sent_only_with_a_schedule_that_covers_its_amount(convention, instructeur):
    lower_balance(convention, instructeur, Decimal("100"))
    with pytest.raises(DomainError, match="doit couvrir exactement le montant"):
        services.send_for_signature(convention, by=instructeur)
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.DRAFT and not convention.document


@pytest.mark.django_db(transaction=True)
def test_two_instalments_added_at_once_never_exceed_the_amount():
    """Both fit alone, not together: the agreement's row lock makes the second wait and
    count the first."""
    instructeur = UserFactory(roles=[Role.INSTRUCTEUR])
    member = UserFactory(roles=[Role.CANDIDAT])
    organisation = OrganisationFactory(members=[member])
    decision = select(dossier_ready_call(), organisation, member, by=instructeur)
    convention = services.create_convention(decision, by=instructeur)
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
                due_on=dt.date(2027, 6, 30),
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
    assert renewal.year == 2028
    # From the day after the end of the renewed agreement, for twelve months.
    assert (renewal.period_start, renewal.period_end) == (
        dt.date(2028, 1, 1),
        dt.date(2028, 12, 31),
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
        (PaymentStatus.PLANNED, dt.date(2028, 1, 31)),
        (PaymentStatus.PLANNED, dt.date(2029, 3, 31)),
    ]
    assert sum(renewal.payments.values_list("amount", flat=True)) == renewal.amount
    assert renewal.reports.count() == 3
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
    with pytest.raises(DomainError, match="précède l'envoi"):
        services.record_signature(
            convention,
            by=instructeur,
            signed_on=TODAY - dt.timedelta(days=1),
            uploaded=pdf_upload(),
        )
    signed_on = TODAY
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


def test_settling_waits_for_every_payment_and_the_closing_reports(signed, instructeur, candidate):
    advance, balance = signed.payments.order_by("position")
    pay(advance, instructeur)
    with pytest.raises(DomainError, match="pas encore versés"):
        services.settle_convention(signed, by=instructeur)
    accept(signed, ReportKind.FINAL, candidate, instructeur)
    accept(signed, ReportKind.FINANCIAL, candidate, instructeur)
    pay(balance, instructeur, reference="MANDAT-2")
    Report.objects.filter(convention=signed, kind=ReportKind.FINANCIAL).update(
        status=ReportStatus.SUBMITTED  # as if it had not been accepted yet
    )
    with pytest.raises(DomainError, match="compte rendu financier"):
        services.settle_convention(signed, by=instructeur)
    Report.objects.filter(convention=signed).update(status=ReportStatus.ACCEPTED)
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
    assert (report.file_name, report.submitted_by, report.status) == (
        "bilan.docx",
        candidate,
        ReportStatus.SUBMITTED,
    )
    assert len(report.sha256) == 64
    services.accept_report(report, by=instructeur)
    with pytest.raises(DomainError, match="déjà validé"):
        services.submit_report(report, by=candidate, uploaded=pdf_upload("autre.pdf"))
    assert Report.objects.get(pk=report.pk).file_name == "bilan.docx"


def test_a_report_is_sent_back_with_its_reason_then_sent_again(
    signed, candidate, instructeur, ddets_reader
):
    report = signed.reports.get(kind=ReportKind.FINAL)
    with pytest.raises(DomainError, match="pas encore été remis"):
        services.send_back_report(report, by=instructeur, reason="Incomplet")
    services.submit_report(report, by=candidate, uploaded=pdf_upload("bilan-final.pdf"))
    with pytest.raises(PermissionDenied):
        services.send_back_report(report, by=ddets_reader, reason="Incomplet")
    with pytest.raises(DomainError, match="Indiquez pourquoi"):
        services.send_back_report(report, by=instructeur, reason="  ")
    services.send_back_report(
        report, by=instructeur, reason="Il manque le bilan des heures d'insertion."
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.SENT_BACK
    assert report.sent_back_reason == "Il manque le bilan des heures d'insertion."
    with pytest.raises(TransitionNotAllowed):  # nothing to review until it comes back
        services.accept_report(report, by=instructeur)
    services.submit_report(report, by=candidate, uploaded=pdf_upload("bilan-final-v2.pdf"))
    services.accept_report(report, by=instructeur)
    history = list(report.status_changes.values_list("action", "to_status", "note", "by"))
    assert history == [
        ("submit", "submitted", "bilan-final.pdf", candidate.pk),
        ("send_back", "sent_back", "Il manque le bilan des heures d'insertion.", instructeur.pk),
        ("submit", "submitted", "bilan-final-v2.pdf", candidate.pk),
        ("accept", "accepted", "", instructeur.pk),
    ]


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
    foreign = Indicator.objects.create(
        call=dossier_ready_call(), label="Autre appel", target=Decimal(1)
    )
    with pytest.raises(PermissionDenied):
        services.report_indicator(signed, foreign, by=candidate, period=1, value=Decimal(1))


def test_a_quarter_outside_the_period_is_refused(signed, candidate, indicators):
    with pytest.raises(DomainError, match="n'appartient pas"):
        services.report_indicator(signed, indicators[0], by=candidate, period=5, value=Decimal(1))


def test_the_series_cumulates_the_quarters_against_the_target(signed, candidate, indicators):
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


def test_a_level_counts_its_last_value_never_300_percent(signed, candidate, call):
    space = Indicator.objects.create(
        call=call,
        label="Espace numérique de collaboration actif",
        unit="1 = actif",
        kind=IndicatorKind.LEVEL,
        target=Decimal(1),
    )
    for period in (1, 2, 3):
        services.report_indicator(signed, space, by=candidate, period=period, value=Decimal(1))
    page = convention_page(Convention.objects.filter(pk=signed.pk)).get()
    (item,) = [i for i in indicator_series(page) if i["indicator"] == space]
    assert item["cumulated"] == [1, 1, 1, 1]  # held after the last quarter entered
    assert (item["total"], item["share"]) == (1, 100)
    services.report_indicator(signed, space, by=candidate, period=4, value=Decimal(0))
    page = convention_page(Convention.objects.filter(pk=signed.pk)).get()
    (item,) = [i for i in indicator_series(page) if i["indicator"] == space]
    assert (item["cumulated"][-1], item["share"]) == (0, 0)


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

"""The demo data gives the seed call the follow-up indicators its agreements report on,
and a decided demonstration call whose agreements are running."""

import html

import pytest
from django.core.management import call_command
from django.utils import timezone
from django.utils.formats import date_format
from stdnum.fr import siret

from aap.models import Call
from aap.states import CallStatus
from aap.templatetags.aap_tags import fte
from candidatures.models import Candidature, Organisation
from conventions.dates import default_end, default_start
from conventions.models import (
    Convention,
    IndicatorValue,
    Payment,
    ProgressReview,
    Report,
    ReviewRemark,
)
from conventions.states import (
    ConventionStatus,
    IndicatorKind,
    PaymentCondition,
    PaymentStatus,
    ReportKind,
)
from conventions.templatetags.conventions_tags import euros
from core.models import User
from demo import seed
from demo.conventions import DDETS_REMARK, SEED_INDICATORS
from demo.dossiers import ORGANISATIONS
from demo.loader import CONVENTION_LOT_BUDGET, load_demo
from evaluation.models import CommitteeRecord, Decision, Evaluation, NotificationLetter, Opinion
from evaluation.states import DecisionOutcome, EvaluationStatus
from tests.pdf import pdf_text

VAL_NORD = ORGANISATIONS[0].name


def test_the_seed_calls_have_their_indicators(db):
    load_demo(with_accounts=False)
    for reference in (seed.REFERENCE, seed.DEMO_REFERENCE):
        call = Call.objects.get(reference=reference)
        assert [i.label for i in call.indicators.all()] == [row[0] for row in SEED_INDICATORS]
        assert all(indicator.target > 0 for indicator in call.indicators.all())
    load_demo(with_accounts=False)
    assert Call.objects.get(reference=seed.REFERENCE).indicators.count() == len(SEED_INDICATORS)


def test_the_copy_in_instruction_has_the_indicators_and_no_agreement_yet(db):
    load_demo(with_accounts=True)
    call = Call.objects.get(reference=seed.REVIEW_REFERENCE)
    assert [i.label for i in call.indicators.all()] == [row[0] for row in SEED_INDICATORS]
    # Its dossiers await the committee's decisions: nothing to agree on yet.
    assert call.candidatures.count() == 4
    assert not Convention.objects.filter(call=call).exists()
    assert not Decision.objects.filter(candidature__call=call).exists()


# --- The copy whose agreements are running ----------------------------------------------------


@pytest.fixture
def loaded(db):
    return load_demo(with_accounts=True)


def _call():
    return Call.objects.get(reference=seed.CONVENTION_REFERENCE)


def _conventions():
    return {
        convention.organisation.name: convention
        for convention in Convention.objects.filter(call=_call()).select_related("organisation")
    }


def _user(email):
    return User.objects.get(email=email)


def test_the_call_is_decided_four_months_after_its_deadline(loaded):
    call = _call()
    assert call.is_demo
    assert call.title.endswith(" (démonstration, conventions en cours)")
    assert call.status == CallStatus.DECIDED
    local = timezone.localtime(call.deadline)
    assert (local.hour, local.minute) == (17, 0)
    assert 110 <= (timezone.localdate() - local.date()).days <= 130
    assert [(lot.name, lot.budget) for lot in call.lots.all()] == [
        ("Nord Isère", CONVENTION_LOT_BUDGET),
        ("Sud Isère", CONVENTION_LOT_BUDGET),
    ]
    review = Call.objects.get(reference=seed.REVIEW_REFERENCE)
    for related in ("criteria", "required_documents", "form_questions", "indicators"):
        assert getattr(call, related).count() == getattr(review, related).count(), related
    assert list(call.status_changes.values_list("to_status", flat=True)) == [
        "published",
        "closed",
        "under_review",
        "decided",
    ]


def test_its_dossiers_were_scored_by_both_evaluators_and_decided_within_the_budgets(loaded):
    call = _call()
    dossiers = Candidature.objects.filter(call=call).select_related("organisation")
    assert dossiers.count() == 3
    other_sirets = set(
        Organisation.objects.filter(candidatures__call__reference=seed.REVIEW_REFERENCE)
        .exclude(name=VAL_NORD)
        .values_list("siret", flat=True)
    )
    for dossier in dossiers:
        assert dossier.status == "submitted"
        assert dossier.receipts.count() == 1
        assert siret.is_valid(dossier.organisation.siret)
        assert dossier.organisation.siret not in other_sirets
    candidate = _user("candidat@demo.example")
    assert Candidature.objects.of_member(candidate).filter(call=call).get().organisation.name == (
        VAL_NORD
    )
    evaluations = Evaluation.objects.filter(assignment__candidature__call=call)
    assert sorted(evaluations.values_list("assignment__evaluator__email", flat=True)) == sorted(
        ["instructeur@demo.example", "evaluateur@demo.example"] * 3
    )
    assert set(evaluations.values_list("status", flat=True)) == {EvaluationStatus.SUBMITTED}
    assert (
        Opinion.objects.filter(candidature__call=call, author__email="ddets@demo.example").count()
        == 3
    )
    decisions = Decision.objects.filter(candidature__call=call).select_related("lot")
    assert sorted((d.lot.name, d.outcome) for d in decisions) == [
        ("Nord Isère", DecisionOutcome.SELECTED),
        ("Nord Isère", DecisionOutcome.WAITING_LIST),
        ("Sud Isère", DecisionOutcome.SELECTED),
    ]
    for decision in decisions.filter(outcome=DecisionOutcome.SELECTED):
        assert 0 < decision.amount_granted <= decision.lot.budget
        assert decision.fte_granted <= decision.lot.fte
    assert CommitteeRecord.objects.filter(call=call).count() == 2
    assert (
        NotificationLetter.objects.filter(candidature__call=call, sent_at__isnull=False).count()
        == 3
    )


def test_its_public_page_lists_the_selected_organisations(loaded, client):
    call = _call()
    page = client.get(f"/appels/{call.slug}/").content.decode()
    selected = Decision.objects.filter(candidature__call=call, outcome=DecisionOutcome.SELECTED)
    assert selected.count() == 2
    for decision in selected.select_related("candidature__organisation"):
        assert html.escape(decision.candidature.organisation.name) in page
    waiting = Decision.objects.get(candidature__call=call, outcome=DecisionOutcome.WAITING_LIST)
    assert html.escape(waiting.candidature.organisation.name) not in page


def test_each_agreement_is_signed_after_its_decision_with_its_advance_paid(loaded):
    conventions = _conventions()
    assert len(conventions) == 2
    today = timezone.localdate()
    for convention in conventions.values():
        decision = Decision.objects.get(candidature=convention.candidature, lot=convention.lot)
        decided_on = timezone.localdate(decision.decided_at)
        # Dated from its decision: it starts the first day of the next month, for a year.
        assert convention.decision_date == decided_on
        assert convention.period_start == default_start(decided_on)
        assert convention.period_start > decided_on
        assert convention.period_end == default_end(convention.period_start)
        assert convention.status == ConventionStatus.SIGNED  # its period has not begun
        assert convention.document_sha256 and convention.signed_on == decided_on
        with convention.signed_scan.open("rb") as handle:
            assert handle.read(5) == b"%PDF-"
        payments = list(convention.payments.order_by("position"))
        assert sum(p.amount for p in payments) == convention.amount
        advance = payments[0]
        assert advance.status == PaymentStatus.PAID
        assert advance.accounting_reference.startswith("MANDAT-")
        assert advance.requested_on == advance.ordered_on == advance.paid_on == decided_on
        assert {p.status for p in payments[1:]} == {PaymentStatus.PLANNED}
        assert payments[-1].condition == PaymentCondition.FINAL_REPORTS
        # Nothing is due before the decision; the reports come after today.
        assert all(p.due_on >= decided_on for p in payments)
        assert all(r.due_on > today for r in convention.reports.all())
        assert {r.kind for r in convention.reports.all()} == set(ReportKind)
        assert list(convention.status_changes.values_list("to_status", flat=True)) == [
            "sent",
            "signed",
        ]
    assert not Report.objects.filter(convention__call=_call(), submitted_at__isnull=False)


def test_each_agreement_reads_every_article_with_its_own_figures(loaded):
    call = _call()
    for convention in _conventions().values():
        with convention.document.open("rb") as handle:
            text = pdf_text(handle.read(), order="reading")
        start, end = (
            date_format(day, "DATE_FORMAT")
            for day in (convention.period_start, convention.period_end)
        )
        for expected in (
            f"Article 1 – Objet {call.title} – lot {convention.lot.name}.",
            f"Article 2 – Durée La convention couvre la période du {start} au {end}.",
            f"une subvention de {' '.join(euros(convention.amount).split())} pour le "
            f"financement de {fte(convention.fte)} équivalent(s) temps plein",
            "La subvention représente 100 % du coût total de l'action.",
            "Une avance de 50 % du montant est versée dans les 30 jours suivant la signature",
            "formulaire CERFA n° 15059",
            "loi n° 2000-321 du 12 avril 2000",
            "Article 8 – Communication",
            "tribunal administratif de Grenoble",
        ):
            assert expected in text, expected
        # Every placeholder replaced: no brace is left in what the organisation signed.
        assert "{" not in text and "}" not in text


def test_the_staff_dashboard_lists_both_agreements_and_what_needs_action(loaded, client):
    client.force_login(_user("instructeur@demo.example"))
    response = client.get("/gestion/conventions/")
    assert response.status_code == 200
    page = response.content.decode()
    rows = {row.number: row for row in response.context["conventions"]}
    for convention in _conventions().values():
        assert f'data-convention="{convention.number}"' in page
        assert rows[convention.number].paid == convention.payments.get(position=1).amount
    assert any(row.review_soon or row.report_late or row.instalment_due for row in rows.values())
    assert "Point d&#x27;étape proche" in page or "Point d'étape proche" in page


def test_the_ddets_reads_the_review_and_its_remark(loaded, client):
    client.force_login(_user("ddets@demo.example"))
    convention = _conventions()[VAL_NORD]
    response = client.get(f"/gestion/conventions/{convention.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    held = ProgressReview.objects.get(convention=convention, held=True)
    assert html.escape(held.minutes) in page
    remark = ReviewRemark.objects.get(review=held)
    assert remark.author.email == "ddets@demo.example" and remark.text == DDETS_REMARK
    assert html.escape(DDETS_REMARK) in page


def test_the_candidate_sees_its_own_agreement_only(loaded, client):
    client.force_login(_user("candidat@demo.example"))
    conventions = _conventions()
    page = client.get("/candidatures/conventions/").content.decode()
    assert conventions[VAL_NORD].number in page
    (other,) = [c for name, c in conventions.items() if name != VAL_NORD]
    assert other.number not in page
    assert client.get(f"/candidatures/conventions/{other.pk}/").status_code == 404
    response = client.get(f"/candidatures/conventions/{conventions[VAL_NORD].pk}/")
    assert response.status_code == 200
    # One chart per indicator of the call's objectives, the space as a level; no value yet:
    # the agreement's first quarter has not begun.
    charts = response.context["indicators"]
    assert [item["indicator"].label for item in charts] == [row[0] for row in SEED_INDICATORS]
    assert [item["indicator"].is_level for item in charts] == [
        row[2] == IndicatorKind.LEVEL for row in SEED_INDICATORS
    ]
    assert not IndicatorValue.objects.filter(convention=conventions[VAL_NORD]).exists()
    page = response.content.decode()
    assert 'data-kind="indicator"' in page
    assert "niveau : la dernière valeur compte" in page


def test_the_indicators_measure_the_seed_call_objectives(db):
    load_demo(with_accounts=False)
    labels = " ".join(
        Call.objects.get(reference=seed.REFERENCE).indicators.values_list("label", flat=True)
    )
    for objective in ("allocataires du RSA", "longue durée", "donneurs d'ordre", "secteurs"):
        assert objective in labels, objective
    assert "Heures de travail d'insertion" in labels and "Vercors" in labels


def test_loading_twice_changes_nothing(loaded):
    models = (Convention, Payment, ProgressReview, ReviewRemark, Report, IndicatorValue, Decision)
    before = [model.objects.count() for model in models]
    assert load_demo(with_accounts=True).created == []
    assert [model.objects.count() for model in models] == before
    assert Convention.objects.count() == 2


def test_without_accounts_there_is_no_call_with_agreements(db):
    call_command("load_demo", no_accounts=True)
    assert not Call.objects.filter(reference=seed.CONVENTION_REFERENCE).exists()
    assert not Convention.objects.exists() and not Decision.objects.exists()
    assert Payment.objects.count() == Report.objects.count() == 0

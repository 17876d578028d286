"""A dossier that went the whole way, made through the services as people make it: its
answers and files, its receipt, its admissibility, an evaluation, the committee's record,
its decision notified by letter, then its agreement sent and signed, an advance paid, an
avenant sent and signed, and a report sent and accepted. Every file it has is in private
storage, under this test's own folder.

The clock is that of the agreements' tests (6 December 2026, 10:00 in Paris)."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from aap.models import SubCriterion
from candidatures import followup
from candidatures import services as dossier_services
from candidatures.models import Candidature
from conventions import services as convention_services
from conventions.models import Amendment, Convention
from conventions.states import PaymentCondition
from demo import modeles
from evaluation import letters
from evaluation import services as evaluation_services
from evaluation.models import Decision
from evaluation.states import DecisionOutcome
from tests.candidatures.conftest import PDF, fill
from tests.conventions import conftest as conventions
from tests.evaluation.conftest import close
from tests.evaluation.notified import freeze_every_lot
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

# The agreements' tests' clock, storage, groups and authority, bound here (an argument
# named like an import trips ruff's F811).
clock = conventions.clock
_private_storage = conventions._private_storage
role_groups = conventions.role_groups
authority_siret = conventions.authority_siret

ORGANISATION = "Communauté de communes du Trièves"
# A name as a candidate's computer may give it: a folder, reserved characters, twice.
BUDGET_NAME = "../Budget 2027: action/structure?.xlsx"
XLSX = modeles.budget_xlsx()


@dataclass
class World:
    call: object
    dossier: Candidature
    decision: Decision
    convention: Convention
    amendment: Amendment


def build_world(*, instructeur, candidate, evaluator, capture, organisation=None) -> World:
    call = dossier_ready_call()
    organisation = organisation or OrganisationFactory(
        name=ORGANISATION, siret="73282932000074", members=[candidate]
    )
    dossier = submitted(call, organisation, candidate)
    followup.post_message(
        dossier,
        by=candidate,
        body="Voici le CV de la chargée de mission.",
        attachment=SimpleUploadedFile("CV chargée.pdf", PDF, content_type="application/pdf"),
    )
    lot = call.lots.order_by("position").first()
    evaluation_services.decide_admissibility(dossier, by=instructeur, admissible=True)
    evaluate(dossier, evaluator, by=instructeur)
    decision = evaluation_services.record_decision(
        dossier,
        lot,
        by=instructeur,
        outcome=DecisionOutcome.SELECTED,
        amount_granted=conventions.AMOUNT,
        fte_granted=conventions.FTE,
    )
    freeze_every_lot(call, by=instructeur)
    call.refresh_from_db()
    with capture(execute=True):
        letters.notify_decisions(call, by=instructeur)
    decision.refresh_from_db()

    convention = convention_services.create_convention(decision, by=instructeur)
    conventions.sign(convention, instructeur, start=True)
    convention.refresh_from_db()
    conventions.pay(convention.payments.order_by("position").first(), instructeur)
    amendment = _signed_amendment(convention, instructeur)
    conventions.accept(convention, convention.reports.first().kind, candidate, instructeur)
    return World(call, dossier, decision, convention, amendment)


def submitted(call, organisation, member, *, close_call=True) -> Candidature:
    """Answers, the mandatory PDF and two budgets under the same unsafe name, submitted
    five minutes before the deadline, which then passes (unless ``close_call`` is False)."""
    dossier = Candidature.objects.create(call=call, organisation=organisation, created_by=member)
    fill(dossier, member)
    budgets = call.required_documents.get(label="Budgets prévisionnels")
    for _copy in range(2):
        dossier_services.add_document(
            dossier,
            budgets,
            by=member,
            uploaded=SimpleUploadedFile(BUDGET_NAME, XLSX, content_type="application/octet-stream"),
        )
    dossier.lots.set([call.lots.order_by("position").first()])
    dossier_services.submit_candidature(
        dossier, by=member, received_at=timezone.now() - dt.timedelta(minutes=5), certified=True
    )
    if close_call:
        close(call)
    dossier.refresh_from_db()
    return dossier


def evaluate(dossier, evaluator, *, by):
    """An evaluator declares no conflict, scores every sub-criterion 3 and submits."""
    assignment = evaluation_services.assign(dossier, evaluator, by=by)
    evaluation_services.declare_conflict(assignment, by=evaluator, has_conflict=False)
    evaluation = evaluation_services.save_evaluation(
        assignment,
        by=evaluator,
        scores={s.pk: 3 for s in SubCriterion.objects.filter(criterion__call=dossier.call)},
        justifications={c.pk: f"Justification {c.title}" for c in dossier.call.criteria.all()},
        comment="Un réseau déjà actif sur le territoire.",
    )
    return evaluation_services.submit_evaluation(evaluation, by=evaluator)


def _signed_amendment(convention, by) -> Amendment:
    amendment = convention_services.prepare_amendment(convention, by=by)
    line = amendment.instalments.get(label="Solde")
    others = convention.amount - line.amount
    convention_services.save_amendment_instalment(
        amendment,
        by=by,
        instalment=line,
        label="Solde",
        due_on=dt.date(2028, 6, 30),
        amount=Decimal("10000"),
        condition=PaymentCondition.FINAL_REPORTS,
    )
    amendment = convention_services.update_amendment(
        amendment,
        by=by,
        changes="Prolongation de trois mois et baisse du solde.",
        amount_after=others + Decimal("10000"),
        period_end_after=dt.date(2028, 3, 31),
    )
    amendment = convention_services.send_amendment(amendment, by=by)
    return convention_services.record_amendment_signature(
        amendment,
        by=by,
        signed_on=conventions.TODAY,
        uploaded=conventions.pdf_upload("avenant-signe.pdf"),
    )


@pytest.fixture
def world(candidate, instructeur, evaluator, django_capture_on_commit_callbacks):
    return build_world(
        instructeur=instructeur,
        candidate=candidate,
        evaluator=evaluator,
        capture=django_capture_on_commit_callbacks,
    )


@pytest.fixture
def evaluator(db):
    return UserFactory(
        email="etienne@isere.test",
        first_name="Étienne",
        last_name="Valuateur",
        roles=["evaluateur"],
    )

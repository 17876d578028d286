"""A selected dossier, as the evaluation leaves it, and agreements made from it.

Every test runs on 6 December 2026 at 10:00 in Paris (the clock then moves on), whatever
today's date: the decisions are taken that day, so that an agreement runs by default from
1 January 2027 to 31 December 2027."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from candidatures import services as dossier_services
from candidatures.models import Candidature
from conventions import services
from conventions.articles import ARTICLE_FIELDS
from conventions.models import Indicator
from core.roles import Role
from evaluation import services as evaluation_services
from evaluation.models import Decision
from evaluation.states import DecisionOutcome
from tests.candidatures.conftest import PDF, fill
from tests.evaluation.conftest import close
from tests.factories import OrganisationFactory, dossier_ready_call

AMOUNT = Decimal("24500.00")
FTE = Decimal("0.50")
ORGANISATION = "Communauté de communes du Trièves"


TODAY = dt.date(2026, 12, 6)
NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
START, END = dt.date(2027, 1, 1), dt.date(2027, 12, 31)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Every conventions test stores its files in its own private folder."""


@pytest.fixture(autouse=True)
def role_groups(db):
    """The groups of the data migration, gone after a transactional test's flush when the
    test database is reused."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.fixture(autouse=True)
def authority_siret(settings):
    # A made-up SIRET whose checksum holds (the open data's schema checks it).
    settings.AUTHORITY_SIRET = "22380001200013"


def pdf_upload(name="convention-signee.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def select(call, organisation, member, *, by, amount=AMOUNT, fte=FTE) -> Decision:
    """A dossier of ``organisation`` submitted on time, the deadline passed, admitted and
    selected on the call's first lot, as the evaluation does it."""
    lot = call.lots.first()
    dossier = Candidature.objects.create(call=call, organisation=organisation, created_by=member)
    fill(dossier, member)
    dossier.lots.set([lot])
    dossier_services.submit_candidature(
        dossier, by=member, received_at=timezone.now() - dt.timedelta(minutes=5), certified=True
    )
    close(call)
    dossier.refresh_from_db()
    evaluation_services.decide_admissibility(dossier, by=by, admissible=True)
    return evaluation_services.record_decision(
        dossier,
        lot,
        by=by,
        outcome=DecisionOutcome.SELECTED,
        amount_granted=amount,
        fte_granted=fte,
    )


@pytest.fixture
def organisation(candidate):
    return OrganisationFactory(name=ORGANISATION, siret="73282932000074", members=[candidate])


@pytest.fixture
def selected_decision(db, organisation, candidate, instructeur):
    return select(dossier_ready_call(), organisation, candidate, by=instructeur)


@pytest.fixture
def call(selected_decision):
    return selected_decision.candidature.call


@pytest.fixture
def indicators(call):
    return [
        Indicator.objects.create(
            call=call, position=1, label="Réunions du réseau co-animées", target=Decimal("8")
        ),
        Indicator.objects.create(
            call=call,
            position=2,
            label="Actions avec le secteur du handicap",
            unit="actions",
            target=Decimal("4"),
        ),
    ]


@pytest.fixture
def convention(selected_decision, instructeur):
    return services.create_convention(selected_decision, by=instructeur)


def sign(convention, by, *, start=False):
    """Sent, signed today with a real PDF and, if asked, started."""
    services.send_for_signature(convention, by=by)
    services.record_signature(
        convention, by=by, signed_on=timezone.localdate(), uploaded=pdf_upload()
    )
    if start:
        services.start_convention(convention, by=by)
    return convention


@pytest.fixture
def signed(convention, instructeur):
    return sign(convention, instructeur, start=True)


def lower_balance(convention, by, less):
    """The balance instalment of a draft ``less`` euros lower, through the schedule's
    service."""
    balance = convention.payments.get(label="Solde")
    return services.save_payment(
        convention,
        by=by,
        payment=balance,
        label="Solde",
        due_on=balance.due_on,
        amount=balance.amount - less,
        condition=balance.condition,
    )


def accept(convention, kind, member, by):
    """The organisation's report of ``kind`` sent, then accepted by an instructeur."""
    report = convention.reports.get(kind=kind)
    services.submit_report(report, by=member, uploaded=pdf_upload(f"{kind}.pdf"))
    return services.accept_report(report, by=by)


def pay(payment, by, *, reference="MANDAT-2027-0001"):
    today = timezone.localdate()
    services.move_payment(payment, "request", by=by, on=today)
    services.move_payment(payment, "order", by=by, on=today, reference=reference)
    services.move_payment(payment, "pay", by=by, on=today)
    return payment


def draft_data(convention, **changes) -> dict:
    """What the draft form of ``convention``'s page posts: its period, share and every
    article as they are, with ``changes`` (field names without the prefix)."""
    fields = {
        "period_start": convention.period_start.isoformat(),
        "period_end": convention.period_end.isoformat(),
        "subsidy_share": str(convention.subsidy_share).replace(".", ","),
        **{name: getattr(convention, name) for name in ARTICLE_FIELDS},
        **changes,
    }
    return {f"draft-{name}": value for name, value in fields.items()}


def template_data(call, **changes) -> dict:
    """What the call's « Conventions » page posts for its template of agreements (no
    indicator), with ``changes``."""
    terms = services.funding_terms(call)
    fields = {
        "advance_percent": str(terms.advance_percent).replace(".", ","),
        "advance_days": str(terms.advance_days),
        "balance_condition": terms.balance_condition,
        **{name: getattr(terms, name) for name in ARTICLE_FIELDS},
        **changes,
    }
    return {
        **{f"terms-{name}": value for name, value in fields.items()},
        "items-TOTAL_FORMS": "0",
        "items-INITIAL_FORMS": str(call.indicators.count()),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }

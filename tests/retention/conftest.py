"""A call decided and notified on 6 December 2026 (T0), as staff do it, with something in
every retention category, each period starting that day:

- alpha, selected: its agreement signed, its reports accepted, every instalment paid on
  T0, then settled (« selected », 10 years from T0);
- beta not selected, gamma on the waiting list, delta inadmissible: notified on T0
  (« not_selected », 5 years);
- a draft never submitted on the call, whose deadline passed on T0 (« not_selected »);
- the members' accounts, created on T0 (« inactive_account », 3 years);
- a DDETS reading of beta on T0 (« reading_log », 1 year);
- the e-mails sent on T0 (« outbox », 1 year).

The settings' default periods are the ones tested: 5, 10, 3, 1 and 1 years."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from candidatures.followup import log_reading
from candidatures.models import Candidature
from conventions import services as convention_services
from conventions.states import PaymentAction, ReportKind
from core.roles import Role
from evaluation.models import Decision
from tests.conventions.conftest import accept, sign
from tests.evaluation import notified
from tests.evaluation.conftest import evaluators, graded_call  # noqa: F401 (fixtures)
from tests.factories import OrganisationFactory, UserFactory

PARIS = ZoneInfo("Europe/Paris")
T0 = dt.datetime(2026, 12, 6, 10, 0, tzinfo=PARIS)
DAY0 = T0.date()


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Every retention test stores its files in its own private folder."""


@pytest.fixture(autouse=True)
def role_groups(db):
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(T0, tick=True):
        yield


def at_noon(day: dt.date):
    """The clock at noon in Paris on ``day``, standing still."""
    return time_machine.travel(dt.datetime.combine(day, dt.time(12), tzinfo=PARIS), tick=False)


def years_after(years: int) -> dt.date:
    """The day a period of ``years`` × 365 days that started on T0 is over."""
    return DAY0 + dt.timedelta(days=365 * years)


def member_of(dossier):
    return dossier.organisation.memberships.first().user


def settle(decision, *, instructeur):
    """The agreement of ``decision`` signed, its reports accepted, paid, settled, on T0."""
    convention = convention_services.create_convention(decision, by=instructeur)
    sign(convention, instructeur, start=True)
    convention_services.schedule_review(
        convention,
        by=instructeur,
        scheduled_at=timezone.now(),
        place="Hôtel du Département",
        participants="Claire Présidente (Département), Paul Porteur (structure)",
    )
    member = member_of(decision.candidature)
    for kind in ReportKind:
        accept(convention, kind, member, instructeur)
    for payment in convention.payments.all():
        for action in PaymentAction:
            convention_services.move_payment(
                payment, action, by=instructeur, on=timezone.localdate(), reference="M-1"
            )
    convention_services.settle_convention(convention, by=instructeur)
    convention.refresh_from_db()
    return convention


@pytest.fixture
def world(
    graded_call,  # noqa: F811 (the fixture imported above)
    instructeur,
    evaluators,  # noqa: F811
    ddets_reader,
    django_capture_on_commit_callbacks,
):
    dossiers = notified.decide(graded_call, instructeur=instructeur, evaluator=evaluators[0])
    notified.notify(graded_call, by=instructeur, capture=django_capture_on_commit_callbacks)
    alpha = dossiers["alpha"]
    decision = Decision.objects.get(candidature=alpha)
    convention = settle(decision, instructeur=instructeur)
    drafter = UserFactory(roles=[Role.CANDIDAT], first_name="Dora", last_name="Brouillon")
    draft = Candidature.objects.create(
        call=graded_call,
        organisation=OrganisationFactory(name="Association Jamais Déposée", members=[drafter]),
        created_by=drafter,
    )
    reading = log_reading(dossiers["beta"], ddets_reader, "dossier")
    for dossier in Candidature.objects.all():
        dossier.refresh_from_db()
    return {
        **dossiers,
        "call": graded_call,
        "convention": convention,
        "draft": draft,
        "drafter": drafter,
        "reading": reading,
        "instructeur": instructeur,
        "ddets_reader": ddets_reader,
    }

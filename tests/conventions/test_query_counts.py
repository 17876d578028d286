"""The dashboard, the lists and the agreement pages run as many queries for a few rows as
for many: totals and flags come from the database, related rows are prefetched."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidatures.models import Candidature
from conventions import services
from conventions.models import (
    Amendment,
    Indicator,
    IndicatorValue,
    ProgressReview,
    Report,
    ReviewRemark,
)
from conventions.states import AmendmentStatus, ReportStatus
from evaluation.models import Decision
from evaluation.states import DecisionOutcome
from tests.conventions.conftest import lower_balance, pay, sign
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def count_queries(client, url):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(context.captured_queries)


def new_convention(call, *, by, member=None):
    """An agreement for a new organisation's dossier, selected on the call's first lot
    (written directly: the evaluation's flow is tested elsewhere)."""
    organisation = OrganisationFactory(members=[member] if member else [])
    candidature = Candidature.objects.create(call=call, organisation=organisation)
    decision = Decision.objects.create(
        candidature=candidature,
        lot=call.lots.first(),
        outcome=DecisionOutcome.SELECTED,
        amount_granted=Decimal("10000"),
        fte_granted=Decimal("0.5"),
        decided_by=by,
    )
    return services.create_convention(decision, by=by)


def enrich(convention, *, by, ddets, member, rows=1):
    """Signed and started; ``rows`` more instalments (the advance paid), reviews with
    remarks, indicator values and amendments; the reports received."""
    lower_balance(convention, by, 100 * rows)
    for n in range(rows):
        services.save_payment(
            convention,
            by=by,
            label=f"Versement {n}",
            due_on=dt.date(convention.year, 6, 30),
            amount=Decimal(100),
        )
    sign(convention, by, start=True)
    pay(convention.payments.get(label="Avance à la signature"), by)
    for n in range(rows):
        review = ProgressReview.objects.create(
            convention=convention,
            scheduled_at=timezone.now() + dt.timedelta(days=n + 1),
            participants="Département, DDETS, structure",
            created_by=by,
        )
        ReviewRemark.objects.create(review=review, author=ddets, text=f"Remarque {n}")
        # Written directly: avenants through their services are tested elsewhere.
        Amendment.objects.create(
            convention=convention,
            number=n + 1,
            status=AmendmentStatus.SIGNED,
            signed_on=timezone.localdate(),
            changes=f"Avenant {n}",
            amount_before=convention.amount,
            amount_after=convention.amount,
            period_end_before=convention.period_end,
            period_end_after=convention.period_end,
            created_by=by,
        )
    for indicator in convention.call.indicators.all()[: max(1, rows // 2)]:
        for period in range(1, min(rows, 4) + 1):
            IndicatorValue.objects.create(
                convention=convention,
                indicator=indicator,
                period=period,
                value=Decimal(period),
                entered_by=member,
            )
    Report.objects.filter(convention=convention).update(
        status=ReportStatus.SUBMITTED,
        submitted_at=timezone.now(),
        submitted_by=member,
        file_name="bilan.pdf",
    )


@pytest.fixture
def setting(convention, instructeur, ddets_reader, candidate):
    call = convention.call
    for n in range(4):
        Indicator.objects.create(call=call, position=n, label=f"Indicateur {n}", target=10)
    return call


def test_the_dashboard_runs_as_many_queries_for_30_agreements_as_for_3(
    setting, convention, instructeur, ddets_reader, candidate, client_for
):
    call = setting
    enrich(convention, by=instructeur, ddets=ddets_reader, member=candidate)
    for _n in range(2):
        enrich(
            new_convention(call, by=instructeur),
            by=instructeur,
            ddets=ddets_reader,
            member=candidate,
        )
    pages = {
        "dashboard": reverse("conventions:dashboard"),
        "dashboard filtered": reverse("conventions:dashboard")
        + f"?year={convention.year}&call={call.pk}&lot={convention.lot_id}",
    }
    client = client_for(instructeur)
    small = {name: count_queries(client, url) for name, url in pages.items()}
    for _n in range(27):
        enrich(
            new_convention(call, by=instructeur),
            by=instructeur,
            ddets=ddets_reader,
            member=candidate,
            rows=3,
        )
    large = {name: count_queries(client, url) for name, url in pages.items()}
    assert large == small
    page = client.get(pages["dashboard"])
    assert len(page.context["conventions"]) == 30


def test_the_member_list_runs_as_many_queries_for_many_agreements(
    setting, convention, instructeur, ddets_reader, candidate, client_for
):
    enrich(convention, by=instructeur, ddets=ddets_reader, member=candidate)
    client = client_for(candidate)
    url = reverse("conventions:my_conventions")
    small = count_queries(client, url)
    for _n in range(10):
        enrich(
            new_convention(setting, by=instructeur, member=candidate),
            by=instructeur,
            ddets=ddets_reader,
            member=candidate,
            rows=3,
        )
    assert count_queries(client, url) == small


def test_the_agreement_pages_run_as_many_queries_with_many_payments_reviews_and_values(
    setting, convention, instructeur, ddets_reader, candidate, client_for
):
    """One instalment, review, remark, value and amendment against many of each."""
    other = new_convention(setting, by=instructeur, member=candidate)
    enrich(convention, by=instructeur, ddets=ddets_reader, member=candidate, rows=1)
    enrich(other, by=instructeur, ddets=ddets_reader, member=candidate, rows=8)
    assert other.payments.count() == 10 and other.reviews.count() == 8
    assert other.indicator_values.count() == 16 and other.amendments.count() == 8
    pages = {
        "detail (staff)": (instructeur, "conventions:detail"),
        "detail (DDETS)": (ddets_reader, "conventions:detail"),
        "detail (member)": (candidate, "conventions:my_convention"),
        "indicators (member)": (candidate, "conventions:indicators"),
    }
    counts = {}
    for label, (user, name) in pages.items():
        client = client_for(user)
        few = count_queries(client, reverse(name, args=[convention.pk]))
        many = count_queries(client, reverse(name, args=[other.pk]))
        counts[label] = (few, many)
    assert all(few == many for few, many in counts.values()), counts

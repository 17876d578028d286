"""What is due for elimination, category by category, on the day its period ends and not
the day before; frozen dossiers are never due; a bordereau sent or refused holds its items."""

import datetime as dt

import pytest
from django.utils import timezone

from conventions.models import Convention, Payment
from conventions.states import ConventionStatus, PaymentStatus
from core.exceptions import DomainError
from core.models import EmailStatus, OutgoingEmail
from evaluation import services as evaluation_services
from evaluation.models import Decision
from retention import services
from retention.queries import due
from retention.states import BordereauStatus, Category
from tests.retention.conftest import DAY0, at_noon, member_of, years_after
from tests.retention.small import small_world

pytestmark = pytest.mark.django_db

ONE_DAY = dt.timedelta(days=1)


def keys(items) -> set[tuple[str, int]]:
    return {
        (
            item.category,
            (item.candidature or item.account or item.reading or item.email).pk,
        )
        for item in items
    }


def listed_today():
    return keys(due(on=timezone.localdate()))


def expected(world) -> dict[str, set[tuple[str, int]]]:
    dossiers = [world[key] for key in ("alpha", "beta", "gamma", "delta")]
    sent = OutgoingEmail.objects.filter(status=EmailStatus.SENT).values_list("pk", flat=True)
    accounts = [member_of(dossier).pk for dossier in dossiers] + [world["drafter"].pk]
    return {
        Category.READING_LOG: {(Category.READING_LOG, world["reading"].pk)},
        Category.OUTBOX: {(Category.OUTBOX, pk) for pk in sent},
        Category.INACTIVE_ACCOUNT: {(Category.INACTIVE_ACCOUNT, pk) for pk in accounts},
        Category.NOT_SELECTED: {
            (Category.NOT_SELECTED, world[key].pk) for key in ("beta", "gamma", "delta", "draft")
        },
        Category.SELECTED: {(Category.SELECTED, world["alpha"].pk)},
    }


def test_each_category_is_due_on_the_day_its_period_ends_and_not_the_day_before(
    world, admin_user, evaluator
):
    wanted = expected(world)
    assert len(wanted[Category.OUTBOX]) >= 4  # the letters' e-mails at least
    boundaries = [
        (years_after(1), [Category.READING_LOG, Category.OUTBOX]),
        (years_after(3), [Category.INACTIVE_ACCOUNT]),
        (years_after(5), [Category.NOT_SELECTED]),
        (years_after(10), [Category.SELECTED]),
    ]
    assert listed_today() == set()
    so_far: set = set()
    for day, categories in boundaries:
        with at_noon(day - ONE_DAY):
            assert listed_today() == so_far, f"the day before {day}"
        for category in categories:
            so_far |= wanted[category]
        with at_noon(day):
            assert listed_today() == so_far, f"on {day}"
    # Staff accounts are never inactive accounts, however long they wait.
    with at_noon(years_after(30)):
        assert listed_today() == so_far


def test_each_item_says_its_call_dates_files_and_volume(world):
    with at_noon(years_after(5)):
        items = {
            item.candidature.pk: item for item in due(on=timezone.localdate()) if item.candidature
        }
    beta = items[world["beta"].pk]
    assert beta.call == world["call"]
    assert (beta.started_on, beta.due_on) == (DAY0, years_after(5))
    assert world["beta"].organisation.name in beta.label
    # The upload, the letter (and the receipt once rendered), with their sizes in storage.
    document = world["beta"].documents.get()
    letter = world["beta"].notification_letters.get()
    receipt = world["beta"].receipts.get()
    stored = [field for field in (document.file, letter.pdf, receipt.pdf) if field]
    assert beta.file_count == len(stored) >= 2
    assert beta.volume == sum(field.size for field in stored) > document.size > 0
    # A draft: its upload only, counted from the call's deadline.
    draft = items[world["draft"].pk]
    assert (draft.started_on, draft.file_count, draft.volume) == (DAY0, 0, 0)


def test_a_running_agreement_or_an_unpaid_instalment_freezes_the_dossier(world):
    alpha, convention = world["alpha"], world["convention"]
    far = years_after(20)
    selected = (Category.SELECTED, alpha.pk)
    with at_noon(far):
        assert selected in listed_today()
    # Test data only: the agreement as if it were still running.
    Convention.objects.filter(pk=convention.pk).update(status=ConventionStatus.IN_PROGRESS)
    with at_noon(far):
        listed = listed_today()
    assert selected not in listed
    # Its members' accounts are kept while it runs.
    assert (Category.INACTIVE_ACCOUNT, member_of(alpha).pk) not in listed
    # Terminated, with an instalment ordered and never paid: still frozen.
    Convention.objects.filter(pk=convention.pk).update(status=ConventionStatus.TERMINATED)
    balance = convention.payments.order_by("position").last()
    Payment.objects.filter(pk=balance.pk).update(status=PaymentStatus.ORDERED)
    with at_noon(far):
        assert selected not in listed_today()
    # An instalment never requested on a terminated agreement will never be paid.
    Payment.objects.filter(pk=balance.pk).update(status=PaymentStatus.PLANNED)
    with at_noon(far):
        assert selected in listed_today()


def test_a_rectification_not_yet_notified_freezes_the_dossier(
    world, django_capture_on_commit_callbacks
):
    beta = world["beta"]
    decision = Decision.objects.get(candidature=beta)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        evaluation_services.rectify_decision(
            decision,
            by=world["instructeur"],
            outcome="waiting_list",
            reason="Recours gracieux : couverture territoriale revue.",
        )
    with at_noon(years_after(5)):
        assert (Category.NOT_SELECTED, beta.pk) not in listed_today()
    for callback in callbacks:  # the letter leaves
        callback()
    with at_noon(years_after(5)):
        assert (Category.NOT_SELECTED, beta.pk) in listed_today()


def test_a_bordereau_sent_holds_its_items_and_a_refused_one_until_listed_again(admin_user):
    small_world()
    with at_noon(years_after(5)):
        draft = services.prepare_draft(on=timezone.localdate())
        assert draft.items.count() == len(listed_today())
        assert listed_today()  # a draft holds nothing
        services.send_to_archives(draft, by=admin_user)
        assert listed_today() == set()
        services.refuse_visa(
            draft, by=admin_user, reason="Durée d'utilité administrative à revoir."
        )
        assert listed_today() == set()
        services.relist(draft, by=admin_user)
        assert len(listed_today()) == draft.items.count()
        with pytest.raises(DomainError):
            services.relist(draft, by=admin_user)  # once
    draft.refresh_from_db()
    assert draft.status == BordereauStatus.REFUSED
    assert list(draft.status_changes.values_list("action", flat=True)) == [
        "send",
        "refuse",
        "relist",
    ]

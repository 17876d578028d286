"""Reminders with time frozen on both sides of each milestone, swept twice each time."""

import contextlib
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aap.models import ReminderSetting
from aap.reminder_settings import days_for
from aap.states import CallStatus
from candidatures.models import Candidature, PaperCopy, PieceRequest
from core.dates import local_datetime
from core.models import OutgoingEmail, Reminder
from core.reminders import after, before, run_sweep
from tests.factories import CallFactory, OrganisationFactory, UserFactory, add_structure

PARIS = ZoneInfo("Europe/Paris")


def paris(*args):
    return dt.datetime(*args, tzinfo=PARIS)


def sweep_at(when, *, capture) -> list:
    """Sweep twice at ``when``; return the e-mails actually sent."""
    before_count = len(mail.outbox)
    with time_machine.travel(when, tick=False):
        with capture(execute=True):
            run_sweep()
        with capture(execute=True):
            assert run_sweep() == 0  # the second sweep finds nothing new
    return mail.outbox[before_count:]


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


# --- Milestones -----------------------------------------------------------------------------------


def test_milestones_before_an_event():
    deadline = paris(2024, 9, 17, 17, 0)
    days = [7, 2, 0]
    assert before(deadline, days, paris(2024, 9, 10, 7, 59)) is None
    assert before(deadline, days, paris(2024, 9, 10, 8, 0)) == "J-7"
    assert before(deadline, days, paris(2024, 9, 15, 7, 59)) == "J-7"
    assert before(deadline, days, paris(2024, 9, 15, 8, 0)) == "J-2"
    assert before(deadline, days, paris(2024, 9, 17, 8, 0)) == "J-0"
    assert before(deadline, days, paris(2024, 9, 17, 17, 0)) is None  # the event has come


def test_milestones_across_daylight_saving_changes():
    # Clocks go forward on 30 March 2025: 8:00 in Paris is 7:00 UTC before, 6:00 UTC after.
    deadline = local_datetime(dt.date(2025, 3, 31), dt.time(17, 0))
    utc = dt.UTC
    assert before(deadline, [2, 0], dt.datetime(2025, 3, 29, 6, 59, tzinfo=utc)) is None
    assert before(deadline, [2, 0], dt.datetime(2025, 3, 29, 7, 0, tzinfo=utc)) == "J-2"
    assert before(deadline, [2, 0], dt.datetime(2025, 3, 31, 5, 59, tzinfo=utc)) == "J-2"
    assert before(deadline, [2, 0], dt.datetime(2025, 3, 31, 6, 0, tzinfo=utc)) == "J-0"
    # Clocks go back on 26 October 2025.
    assert after(dt.date(2025, 10, 24), [2], dt.datetime(2025, 10, 26, 6, 59, tzinfo=utc)) is None
    assert after(dt.date(2025, 10, 24), [2], dt.datetime(2025, 10, 26, 7, 0, tzinfo=utc)) == "J+2"


# --- Drafts before the deadline --------------------------------------------------------------------


@pytest.fixture
def draft_world(db):
    with time_machine.travel(paris(2024, 7, 31, 9, 0), tick=False):
        call = add_structure(
            CallFactory(
                opens_at=paris(2024, 7, 31, 0, 0),
                deadline=paris(2024, 9, 17, 17, 0),
                status=CallStatus.PUBLISHED,
            )
        )
        alice, bruno = UserFactory(roles=["candidat"]), UserFactory(roles=["candidat"])
        draft = Candidature.objects.create(
            call=call, organisation=OrganisationFactory(members=[alice, bruno])
        )
        carla = UserFactory(roles=["candidat"])
        submitted = Candidature.objects.create(
            call=call,
            organisation=OrganisationFactory(members=[carla]),
            status="submitted",
            submitted_at=paris(2024, 8, 1, 10, 0),
        )
    return {
        "call": call,
        "draft": draft,
        "submitted": submitted,
        "members": [alice, bruno],
        "other": carla,
    }


def test_drafts_are_reminded_at_each_milestone_once(draft_world, capture):
    members = sorted(user.email for user in draft_world["members"])
    assert sweep_at(paris(2024, 9, 10, 7, 59), capture=capture) == []
    sent = sweep_at(paris(2024, 9, 10, 8, 0), capture=capture)
    assert sorted(message.to[0] for message in sent) == members
    assert all("Il vous reste 7 jours" in message.subject for message in sent)
    assert all(
        f"/candidatures/dossiers/{draft_world['draft'].pk}/" in message.body for message in sent
    )
    assert all(
        f"/candidatures/dossiers/{draft_world['draft'].pk}/" in message.alternatives[0][0]
        for message in sent
    )
    assert sweep_at(paris(2024, 9, 14, 12, 0), capture=capture) == []
    assert len(sweep_at(paris(2024, 9, 15, 8, 0), capture=capture)) == 2
    last_day = sweep_at(paris(2024, 9, 17, 8, 0), capture=capture)
    assert [
        message.subject.endswith("Dernier jour pour déposer votre dossier") for message in last_day
    ] == [True, True]
    assert sweep_at(paris(2024, 9, 17, 17, 0, 1), capture=capture) == []
    assert draft_world["other"].email not in [m.to[0] for m in mail.outbox]
    assert Reminder.objects.count() == 6


def test_a_late_sweep_sends_only_the_latest_milestone(draft_world, capture):
    sent = sweep_at(paris(2024, 9, 16, 12, 0), capture=capture)  # J-7 and J-2 both passed
    assert len(sent) == 2
    assert set(Reminder.objects.values_list("milestone", flat=True)) == {"J-2"}


def test_a_dossier_submitted_meanwhile_gets_no_more_reminders(draft_world, capture):
    sweep_at(paris(2024, 9, 10, 8, 0), capture=capture)
    Candidature.objects.filter(pk=draft_world["draft"].pk).update(
        status="submitted", submitted_at=paris(2024, 9, 12, 10, 0)
    )
    assert sweep_at(paris(2024, 9, 15, 8, 0), capture=capture) == []


def test_offsets_are_set_per_call(draft_world, capture):
    ReminderSetting.objects.create(call=draft_world["call"], name="draft_days", days="1")
    assert sweep_at(paris(2024, 9, 10, 8, 0), capture=capture) == []
    assert len(sweep_at(paris(2024, 9, 16, 8, 0), capture=capture)) == 2


def test_users_see_the_reminders_sent_to_them(draft_world, capture, client):
    sweep_at(paris(2024, 9, 10, 8, 0), capture=capture)
    alice = draft_world["members"][0]
    assert list(Reminder.objects.sent_to(alice).values_list("milestone", flat=True)) == ["J-7"]
    assert OutgoingEmail.objects.get(reminder__recipient=alice).status == "sent"


# --- Paper copies and pieces ---------------------------------------------------------------------


def test_paper_copy_missing_reminds_candidates_and_staff_once(draft_world, capture, instructeur):
    call = draft_world["call"]
    call.paper_copy_required = True
    call.paper_mail_address = "7 rue Fantin-Latour"
    call.save()
    sent = sweep_at(paris(2024, 9, 22, 7, 59), capture=capture)
    assert sent == []
    sent = sweep_at(paris(2024, 9, 22, 8, 0), capture=capture)  # J+5
    assert sorted(m.to[0] for m in sent) == sorted([draft_world["other"].email, instructeur.email])
    staff_message = next(m for m in sent if m.to == [instructeur.email])
    assert draft_world["submitted"].organisation.name in staff_message.body
    PaperCopy.objects.create(
        candidature=draft_world["submitted"],
        method="mail",
        postmarked_on=dt.date(2024, 9, 17),
        received_on=dt.date(2024, 9, 19),
        recorded_by=instructeur,
    )
    assert sweep_at(paris(2024, 9, 30, 8, 0), capture=capture) == []


def test_requested_pieces_are_reminded_before_their_due_date(draft_world, capture, instructeur):
    submitted = draft_world["submitted"]
    with time_machine.travel(paris(2024, 9, 20, 10, 0), tick=False):
        piece_request = PieceRequest.objects.create(
            candidature=submitted,
            message="Merci de fournir l'attestation signée.",
            due_at=paris(2024, 10, 1, 17, 0),
            created_by=instructeur,
        )
        piece_request.required_documents.set(submitted.call.required_documents.all())
    assert sweep_at(paris(2024, 9, 28, 7, 59), capture=capture) == []
    sent = sweep_at(paris(2024, 9, 28, 8, 0), capture=capture)  # J-3
    assert [m.to for m in sent] == [[draft_world["other"].email]]
    assert "Dossier de demande de financement" in sent[0].body
    piece_request.closed_at = paris(2024, 9, 29, 9, 0)
    piece_request.save()
    assert sweep_at(paris(2024, 9, 30, 8, 0), capture=capture) == []


def test_reminder_keys_are_unique_even_when_two_sweeps_race(draft_world, capture):
    from core.reminders import _store, kinds

    with time_machine.travel(paris(2024, 9, 10, 8, 0), tick=False):
        due = [item for kind in kinds() for item in kind.due(timezone.now())]
        with capture(execute=True):
            first = _store(due)
            second = _store(due)
    assert len(first) == 2 and second == []
    assert OutgoingEmail.objects.filter(key__startswith="rappel:").count() == 2


def test_two_sweeps_at_once_create_and_send_each_reminder_once(transactional_db, draft_world):
    import threading

    from django.db import connections

    barrier, results, errors = threading.Barrier(2), [], []

    def sweep():
        try:
            barrier.wait(timeout=10)
            results.append(run_sweep())
        except Exception as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connections.close_all()

    with time_machine.travel(paris(2024, 9, 10, 8, 0), tick=False):
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert sorted(results) in ([0, 2], [1, 1])
    members = sorted(user.email for user in draft_world["members"])
    assert sorted(message.to[0] for message in mail.outbox) == members
    assert Reminder.objects.count() == OutgoingEmail.objects.count() == 2


def _emails(prefix, user):
    return {
        "key": [f"{prefix}-1", f"{prefix}-2"],
        "template": ["reminder_draft_deadline"] * 2,
        "to": [[user.email], [user.email]],
        "subject": ["Objet", "Objet & <autre>"],
        "body_text": ["Texte\nsur deux lignes", "Texte « accentué »"],
        "body_html": ["<p>HTML</p>", "<p>L'HTML</p>"],
        "user_id": [user.pk, None],
    }


def test_rows_inserted_in_one_statement_are_those_the_models_write(db):
    from core.reminders import _insert_new_with_models, insert_new

    user = UserFactory()
    with time_machine.travel(paris(2024, 9, 10, 8, 0), tick=False):
        one = insert_new(OutgoingEmail, _emails("un", user), unique="key", returning=("key", "id"))
        models = _insert_new_with_models(
            OutgoingEmail, _emails("modele", user), unique="key", returning=("key", "id")
        )
    one, models = sorted(one), sorted(models)
    assert [key for key, _pk in one] == ["un-1", "un-2"]
    assert [key for key, _pk in models] == ["modele-1", "modele-2"]

    def row(pk):
        email = OutgoingEmail.objects.get(pk=pk)
        fields = OutgoingEmail._meta.concrete_fields
        return {f.attname: getattr(email, f.attname) for f in fields if f.name not in ("id", "key")}

    for (_key, pk), (_other, model_pk) in zip(one, models, strict=True):
        assert row(pk) == row(model_pk)
    assert row(one[0][1])["status"] == "pending" and row(one[0][1])["attachments"] == []


def test_rows_already_written_are_skipped_and_not_returned(db):
    from core.reminders import insert_new

    user = UserFactory()
    first = insert_new(OutgoingEmail, _emails("cle", user), unique="key", returning=("key",))
    rows = _emails("cle", user)
    rows = {name: [*values, values[0]] for name, values in rows.items()}
    rows["key"][-1], rows["subject"][0] = "cle-3", "Changé"
    again = insert_new(OutgoingEmail, rows, unique="key", returning=("key",))
    assert sorted(first) == [("cle-1",), ("cle-2",)] and again == [("cle-3",)]
    assert OutgoingEmail.objects.get(key="cle-1").subject == "Objet"


def _statements_of_a_sweep(capture, when) -> tuple[int, int]:
    """Statements of one sweep at ``when`` (the e-mails are not sent: the callbacks that
    hand them to the broker are kept, not run) and the reminders it created."""
    with (
        time_machine.travel(when, tick=False),
        capture(execute=False),
        CaptureQueriesContext(connection) as queries,
    ):
        created = run_sweep()
    return len(queries), created


def test_the_sweep_statements_do_not_grow_with_the_dossiers(draft_world, capture):
    call = draft_world["call"]

    def more_drafts(n):
        for _index in range(n):
            Candidature.objects.create(
                call=call,
                organisation=OrganisationFactory(
                    members=[UserFactory(roles=["candidat"]), UserFactory(roles=["candidat"])]
                ),
            )

    more_drafts(1)
    few, created = _statements_of_a_sweep(capture, paris(2024, 9, 10, 8, 0))
    assert created == 4
    more_drafts(30)
    many, created = _statements_of_a_sweep(capture, paris(2024, 9, 15, 8, 0))
    assert created == 64
    assert many == few
    # Nothing new: the same statements, fewer of them (nothing is written).
    again, created = _statements_of_a_sweep(capture, paris(2024, 9, 15, 8, 0))
    assert created == 0 and again < many


# --- Pages, calendars and the daily digest -----------------------------------------------------------


def test_each_user_sees_the_reminders_sent_to_them(draft_world, capture, client):
    sweep_at(paris(2024, 9, 10, 8, 0), capture=capture)
    alice = draft_world["members"][0]
    client.force_login(alice)
    page = client.get(reverse("accounts:reminders")).content.decode()
    assert "Il vous reste 7 jours pour déposer votre dossier" in page
    client.force_login(draft_world["other"])
    assert "Il vous reste 7 jours" not in client.get(reverse("accounts:reminders")).content.decode()


def test_staff_see_what_was_sent_for_a_call_and_set_the_offsets(
    draft_world, capture, client, instructeur
):
    sweep_at(paris(2024, 9, 10, 8, 0), capture=capture)
    call = draft_world["call"]
    client.force_login(instructeur)
    url = reverse("aap:backoffice_reminders", args=[call.pk])
    page = client.get(url).content.decode()
    assert draft_world["members"][0].email in page
    response = client.post(
        url,
        {
            "draft_days": "7;2",
            "paper_copy_days": 5,
            "piece_request_days": "3",
            "evaluation_days": "7",
            "unsigned_days": 30,
            "instalment_days": 10,
            "review_days": "7",
            "report_days": "15",
            "report_overdue_days": "1",
        },
    )
    assert response.status_code == 400
    assert "séparés par des virgules" in response.content.decode()
    response = client.post(
        url,
        {
            "draft_days": "10, 3, 0",
            "paper_copy_days": 5,
            "piece_request_days": "3",
            "evaluation_days": "7",
            "unsigned_days": 30,
            "instalment_days": 10,
            "review_days": "7",
            "report_days": "15",
            "report_overdue_days": "1",
        },
    )
    assert response.status_code == 302
    assert days_for(call).of("draft_days") == [10, 3, 0]
    client.force_login(draft_world["members"][0])
    assert client.get(url).status_code == 403


def test_a_private_calendar_feed_lists_the_dates_and_can_be_revoked(draft_world, client):
    alice = draft_world["members"][0]
    client.force_login(alice)
    with time_machine.travel(paris(2024, 9, 1, 10, 0), tick=False):
        client.post(reverse("accounts:calendar"), {"action": "create"})
        feed = alice.calendar_feed
        client.logout()
        response = client.get(reverse("calendar_feed", args=[feed.token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "BEGIN:VCALENDAR" in body and "BEGIN:VEVENT" in body
    assert f"Déposer le dossier : {draft_world['call'].title}" in body.replace("\r\n ", "")
    assert "DTSTART:20240917T150000Z" in body
    client.force_login(alice)
    client.post(reverse("accounts:calendar"), {"action": "revoke"})
    client.logout()
    assert client.get(reverse("calendar_feed", args=[feed.token])).status_code == 404


def test_the_daily_digest_goes_to_instructeurs_who_want_it_once_a_day(
    draft_world, capture, instructeur
):
    from aap.models import CallQuestion

    other = UserFactory(
        email="sans-recap@isere.test", roles=["instructeur"], wants_daily_digest=False
    )
    CallQuestion.objects.create(call=draft_world["call"], question="Une question ?")
    assert [
        m
        for m in sweep_at(paris(2024, 9, 3, 6, 59), capture=capture)
        if "récapitulatif" in m.subject
    ] == []
    sent = [
        m
        for m in sweep_at(paris(2024, 9, 3, 7, 0), capture=capture)
        if "récapitulatif" in m.subject
    ]
    assert [m.to for m in sent] == [[instructeur.email]]
    assert "1 question(s) de candidats sans réponse" in sent[0].body
    assert other.email not in [m.to[0] for m in sent]
    assert [
        m
        for m in sweep_at(paris(2024, 9, 3, 18, 0), capture=capture)
        if "récapitulatif" in m.subject
    ] == []
    assert (
        len(
            [
                m
                for m in sweep_at(paris(2024, 9, 4, 7, 0), capture=capture)
                if "récapitulatif" in m.subject
            ]
        )
        == 1
    )


def test_instructeurs_switch_the_digest_off_in_their_profile(client, instructeur, candidate):
    client.force_login(instructeur)
    client.post(
        reverse("accounts:profile"),
        {"first_name": "Inès", "last_name": "M", "job_title": "", "phone": ""},
    )
    instructeur.refresh_from_db()
    assert instructeur.wants_daily_digest is False
    client.force_login(candidate)
    assert "récapitulatif" not in client.get(reverse("accounts:profile")).content.decode()


def test_a_sweep_across_the_spring_daylight_saving_change(db, capture):
    """Clocks go forward on 30 March 2025: 8:00 in Paris is 7:00 UTC on the 29th, and
    6:00 UTC on the 31st."""
    utc = dt.UTC
    with time_machine.travel(dt.datetime(2025, 3, 1, 9, 0, tzinfo=utc), tick=False):
        call = add_structure(
            CallFactory(
                opens_at=dt.datetime(2025, 3, 1, tzinfo=utc),
                deadline=local_datetime(dt.date(2025, 3, 31), dt.time(17, 0)),
            )
        )
        member = UserFactory(roles=["candidat"])
        Candidature.objects.create(call=call, organisation=OrganisationFactory(members=[member]))
    ReminderSetting.objects.create(call=call, name="draft_days", days="2, 0")
    assert sweep_at(dt.datetime(2025, 3, 29, 6, 59, 59, tzinfo=utc), capture=capture) == []
    assert len(sweep_at(dt.datetime(2025, 3, 29, 7, 0, tzinfo=utc), capture=capture)) == 1
    assert sweep_at(dt.datetime(2025, 3, 31, 5, 59, 59, tzinfo=utc), capture=capture) == []
    last = sweep_at(dt.datetime(2025, 3, 31, 6, 0, tzinfo=utc), capture=capture)
    assert [m.subject.endswith("Dernier jour pour déposer votre dossier") for m in last] == [True]
    assert "31 mars 2025 à 17h00" in last[0].body


# --- Reminders that say the truth -----------------------------------------------------------------


def test_a_draft_started_after_the_j2_milestone_is_never_told_it_has_two_days(draft_world, capture):
    """Three minutes before the deadline, the latest milestone reached is still J-2 when
    the call sends no J-0: the wording follows the time really left."""
    setting = ReminderSetting.objects.create(
        call=draft_world["call"], name="draft_days", days="7, 2"
    )
    assert days_for(setting.call).of("draft_days") == [7, 2]
    with time_machine.travel(paris(2024, 9, 17, 16, 56), tick=False):
        late = Candidature.objects.create(
            call=draft_world["call"], organisation=OrganisationFactory(members=[UserFactory()])
        )
    sent = sweep_at(paris(2024, 9, 17, 16, 57), capture=capture)

    to_late = [m for m in sent if m.to == [late.organisation.memberships.get().user.email]]
    assert len(to_late) == 1
    assert "2 jours" not in to_late[0].subject + to_late[0].body
    assert "Il vous reste moins de 24 heures pour le déposer" in to_late[0].body
    assert "17 septembre 2024 à 17h00" in to_late[0].body


@pytest.mark.parametrize(
    ("now", "days"),
    [
        (paris(2024, 9, 10, 8, 0), 7),  # 7 days and 9 hours left
        (paris(2024, 9, 15, 8, 0), 2),
        (paris(2024, 9, 16, 16, 59), 1),  # 1 day and 1 minute
        (paris(2024, 9, 16, 17, 1), 0),  # 23 hours 59 minutes
        (paris(2024, 9, 17, 16, 59), 0),
    ],
)
def test_days_left_never_promise_more_time_than_there_is(now, days):
    from candidatures.reminders import days_left

    assert days_left(paris(2024, 9, 17, 17, 0), now) == days


def test_a_deadline_at_seven_in_the_morning_gets_its_last_day_reminder_the_day_before(db, capture):
    with time_machine.travel(paris(2024, 7, 31, 9, 0), tick=False):
        call = add_structure(
            CallFactory(
                opens_at=paris(2024, 7, 31, 0, 0),
                deadline=paris(2024, 9, 17, 7, 0),
                status=CallStatus.PUBLISHED,
            )
        )
        member = UserFactory(roles=["candidat"])
        Candidature.objects.create(call=call, organisation=OrganisationFactory(members=[member]))

    assert before(call.deadline, [7, 2, 0], paris(2024, 9, 16, 7, 59)) == "J-2"
    assert before(call.deadline, [7, 2, 0], paris(2024, 9, 16, 8, 0)) == "J-0"
    sweep_at(paris(2024, 9, 15, 8, 0), capture=capture)  # J-2
    last = sweep_at(paris(2024, 9, 16, 8, 0), capture=capture)

    assert [m.to for m in last] == [[member.email]]
    assert last[0].subject.endswith("Dernier jour pour déposer votre dossier")
    assert "Il vous reste moins de 24 heures" in last[0].body
    assert "17 septembre 2024 à 07h00" in last[0].body
    assert sweep_at(paris(2024, 9, 17, 8, 0), capture=capture) == []  # after the deadline


@pytest.fixture
def mail_server_down(settings):
    """The mail server refuses everything: e-mails stay in the outbox."""
    settings.EMAIL_BACKEND = "tests.test_reminders.RefusingBackend"
    yield
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPServerDisconnected("serveur de courriel injoignable")


def _deliver_waiting(now):
    """The outbox sends what waits, at ``now``, with the mail server back."""
    from core.mail import deliver_email
    from core.models import EmailStatus

    with time_machine.travel(now, tick=False):
        for email in OutgoingEmail.objects.filter(status=EmailStatus.PENDING):
            deliver_email(email.pk)


def _held_back(world, capture, when, settings):
    """Reminders swept at ``when`` while the mail server refuses them."""
    from celery.exceptions import Retry

    settings.EMAIL_BACKEND = "tests.test_reminders.RefusingBackend"
    with (
        time_machine.travel(when, tick=False),
        capture(execute=True),
        contextlib.suppress(OSError, Retry),  # the task gives up until later
    ):
        run_sweep()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from core.models import EmailStatus

    return list(OutgoingEmail.objects.filter(status=EmailStatus.PENDING))


def test_a_reminder_held_back_by_an_outage_is_dropped_once_the_dossier_is_submitted(
    draft_world, capture, settings
):
    from core.models import EmailStatus

    held = _held_back(draft_world, capture, paris(2024, 9, 15, 8, 0), settings)
    assert len(held) == 2 and mail.outbox == []
    Candidature.objects.filter(pk=draft_world["draft"].pk).update(
        status="submitted", submitted_at=paris(2024, 9, 15, 9, 0)
    )

    _deliver_waiting(paris(2024, 9, 15, 10, 0))

    assert mail.outbox == []
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {EmailStatus.DROPPED}


def test_a_reminder_held_back_a_day_is_dropped_rather_than_promise_too_much(
    draft_world, capture, settings
):
    from core.models import EmailStatus

    ReminderSetting.objects.create(call=draft_world["call"], name="draft_days", days="7")
    held = _held_back(draft_world, capture, paris(2024, 9, 10, 8, 0), settings)
    assert len(held) == 2 and "Il vous reste 7 jours" in held[0].subject

    _deliver_waiting(paris(2024, 9, 10, 12, 0))  # the same day: still true, sent
    assert len(mail.outbox) == 2
    OutgoingEmail.objects.update(status=EmailStatus.PENDING)
    mail.outbox.clear()
    _deliver_waiting(paris(2024, 9, 11, 12, 0))  # a day later, 6 days left: dropped

    assert mail.outbox == []
    assert set(OutgoingEmail.objects.values_list("status", flat=True)) == {EmailStatus.DROPPED}


def test_no_paper_copy_reminder_for_a_dossier_declared_inadmissible_or_decided(
    draft_world, capture, instructeur
):
    from evaluation.models import Admissibility, Decision
    from evaluation.states import AdmissibilityOutcome, DecisionOutcome

    call = draft_world["call"]
    call.paper_copy_required = True
    call.save()
    submitted = draft_world["submitted"]
    decided = Candidature.objects.create(
        call=call,
        organisation=OrganisationFactory(members=[UserFactory(roles=["candidat"])]),
        status="submitted",
        submitted_at=paris(2024, 8, 2, 10, 0),
    )
    Admissibility.objects.create(
        candidature=submitted,
        outcome=AdmissibilityOutcome.INADMISSIBLE,
        reason="Exemplaire papier non reçu.",
        decided_by=instructeur,
    )
    Decision.objects.create(
        candidature=decided,
        lot=call.lots.first(),
        outcome=DecisionOutcome.NOT_SELECTED,
        reason="Projet hors du territoire couvert.",
        decided_by=instructeur,
    )

    assert sweep_at(paris(2024, 9, 22, 8, 0), capture=capture) == []
    assert not Reminder.objects.exists()

"""Equal treatment: postponing a deadline and publishing a new answer each notify every
draft holder and submitter of the call once, not only the person who asked."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from aap.models import Call, CallQuestion
from aap.services import answer_question, reopen_call, save_call
from aap.states import CallStatus
from candidatures.models import Candidature
from candidatures.states import CandidatureStatus
from core.mail import deliver_email, requeue_pending_emails
from core.models import EmailStatus, OutgoingEmail
from core.roles import Role
from tests.aap.test_backoffice import call_form_data
from tests.aap.test_freeze_rules import _admin_form
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call, set_deadline

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2024, 9, 2, 10, 0, tzinfo=PARIS)
EVERYONE = ["camille@epci-exemple.test", "olivier@gip-exemple.test", "zoe@exemple.test"]


@pytest.fixture(autouse=True)
def _frozen_time_and_private_storage(private_root):
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def call(db, candidate, other_candidate):
    """A draft (the candidate and a colleague) and a submitted dossier (the other candidate
    and the same colleague); a member who left, and an organisation with no dossier on
    this call, hear nothing."""
    call = dossier_ready_call(
        opens_at=dt.datetime(2024, 8, 1, 9, 0, tzinfo=PARIS),
        deadline=dt.datetime(2024, 9, 10, 17, 0, tzinfo=PARIS),
    )
    colleague = UserFactory(email="Zoe@Exemple.test", roles=[Role.CANDIDAT])
    gone = UserFactory(email="parti@exemple.test", roles=[Role.CANDIDAT], is_active=False)
    draft_org = OrganisationFactory(members=[candidate, colleague, gone])
    submitted_org = OrganisationFactory(members=[other_candidate, colleague])
    OrganisationFactory(members=[UserFactory(email="personne@ailleurs.test")])
    Candidature.objects.create(call=call, organisation=draft_org, created_by=candidate)
    submitted = Candidature.objects.create(
        call=call, organisation=submitted_org, created_by=other_candidate
    )
    # Test data only: submitted without a receipt (submission is tested elsewhere).
    Candidature.objects.filter(pk=submitted.pk).update(
        status=CandidatureStatus.SUBMITTED, submitted_at=timezone.now()
    )
    return call


def recipients(mailoutbox, template_subject):
    return sorted(
        address for email in mailoutbox if template_subject in email.subject for address in email.to
    )


def edit_data(call, day, time="17:00"):
    return call_form_data(
        call.programme,
        title=call.title,
        reference=call.reference,
        slug=call.slug,
        year=call.year,
        eligible_kinds=call.eligible_kinds,
        priority_kinds=call.priority_kinds,
        opens_on=timezone.localtime(call.opens_at).date().isoformat(),
        deadline_date=day,
        deadline_time=time,
    )


def sweep_twice(template):
    """The periodic sweep and a duplicated task, twice: nothing leaves a second time."""
    later = timezone.now() + dt.timedelta(hours=1)
    for _ in range(2):
        requeue_pending_emails(now=later)
        for pk in OutgoingEmail.objects.filter(template=template).values_list("pk", flat=True):
            assert deliver_email(pk) is False


def test_postponing_the_deadline_notifies_every_draft_holder_and_submitter_once(
    call, instructeur, client_for, django_capture_on_commit_callbacks, mailoutbox
):
    staff = client_for(instructeur)
    url = reverse("aap:backoffice_edit", args=[call.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(url, edit_data(call, "2024-09-17"))
        # Saved again with the same deadline (a double click): nothing new leaves.
        staff.post(url, edit_data(call, "2024-09-17"))
    assert response.status_code == 302
    assert recipients(mailoutbox, "Date limite reportée") == EVERYONE
    assert len(mailoutbox) == 3
    rows = OutgoingEmail.objects.filter(template="call_postponed").values_list("to", "user__email")
    assert sorted(rows) == [([a], a) for a in EVERYONE]
    email = mailoutbox[0]
    assert email.subject.endswith(f"Date limite reportée : appel à projets {call.reference}")
    assert "Nouvelle date limite : 17 septembre 2024 à 17h00 (heure de Paris)." in email.body
    assert "17 septembre 2024 à 17h00" in email.alternatives[0][0]
    link = f"http://testserver{call.get_absolute_url()}"
    assert link in email.body and link in email.alternatives[0][0]
    sweep_twice("call_postponed")
    assert len(mailoutbox) == 3
    assert set(
        OutgoingEmail.objects.filter(template="call_postponed").values_list("status", flat=True)
    ) == {EmailStatus.SENT}

    # A second postponement is news again: one more e-mail each.
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url, edit_data(call, "2024-09-24", "12:00"))
    assert len(mailoutbox) == 6
    assert "24 septembre 2024 à 12h00" in mailoutbox[-1].body


def test_editing_the_call_without_moving_its_deadline_tells_nobody(
    call, instructeur, client_for, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(instructeur).post(
            reverse("aap:backoffice_edit", args=[call.pk]), edit_data(call, "2024-09-10")
        )
    assert response.status_code == 302
    assert mailoutbox == []


def test_moving_a_drafts_deadline_tells_nobody(
    call, instructeur, django_capture_on_commit_callbacks, mailoutbox
):
    Call.objects.filter(pk=call.pk).update(status=CallStatus.DRAFT)
    call.refresh_from_db()
    call.deadline += dt.timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        save_call(call, by=instructeur)
    assert mailoutbox == []


@pytest.mark.parametrize("persona", ["candidate", "evaluator", "ddets_reader"])
def test_only_an_instructeur_saves_or_reopens_a_call(request, call, persona, mailoutbox):
    user = request.getfixturevalue(persona)
    call.deadline += dt.timedelta(days=7)
    with pytest.raises(PermissionDenied):
        save_call(call, by=user)
    with pytest.raises(PermissionDenied):
        reopen_call(call, by=user, deadline=call.deadline, note="Report")
    assert OutgoingEmail.objects.count() == 0


def test_reopening_a_closed_call_notifies_every_draft_holder_and_submitter_once(
    call, instructeur, django_capture_on_commit_callbacks, mailoutbox
):
    set_deadline(call, dt.datetime(2024, 9, 1, 17, 0, tzinfo=PARIS))
    Call.objects.filter(pk=call.pk).update(status=CallStatus.CLOSED)
    call.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        reopen_call(
            call,
            by=instructeur,
            deadline=dt.datetime(2024, 9, 17, 17, 0, tzinfo=PARIS),
            note="Report annoncé aux candidats",
        )
    assert recipients(mailoutbox, "Date limite reportée") == EVERYONE
    assert "17 septembre 2024 à 17h00" in mailoutbox[0].body
    sweep_twice("call_postponed")
    assert len(mailoutbox) == 3


def test_a_new_published_answer_notifies_every_draft_holder_and_submitter_once(
    call, candidate, instructeur, django_capture_on_commit_callbacks, mailoutbox
):
    # Asked by someone with no dossier yet: told as the asker, apart from the others.
    asker = UserFactory(email="curieux@exemple.test", roles=[Role.CANDIDAT])
    question = CallQuestion.objects.create(call=call, asked_by=asker, question="Et les GIP ?")
    with django_capture_on_commit_callbacks(execute=True):
        answer_question(
            question, by=instructeur, public_question="Un GIP peut-il… ?", answer="Oui."
        )
        # Corrected later: not a new answer, nobody hears twice.
        answer_question(
            question, by=instructeur, public_question="Un GIP peut-il… ?", answer="Oui, bien sûr."
        )
    assert recipients(mailoutbox, "Nouvelle réponse publiée") == EVERYONE
    assert recipients(mailoutbox, "Réponse à votre question") == ["curieux@exemple.test"]
    assert len(mailoutbox) == 4
    email = next(e for e in mailoutbox if "Nouvelle réponse publiée" in e.subject)
    assert "Un GIP peut-il… ?" in email.body and "Oui." in email.body
    assert "Date limite de réception des dossiers : 10 septembre 2024 à 17h00" in email.body
    link = f"http://testserver{call.get_absolute_url()}#questions"
    assert link in email.body and link in email.alternatives[0][0]
    sweep_twice("call_answer_published")
    assert len(mailoutbox) == 4


def test_an_asker_holding_a_dossier_hears_of_the_answer_once(
    call, candidate, instructeur, django_capture_on_commit_callbacks, mailoutbox
):
    question = CallQuestion.objects.create(call=call, asked_by=candidate, question="?")
    with django_capture_on_commit_callbacks(execute=True):
        answer_question(question, by=instructeur, public_question="Q ?", answer="R.")
    assert recipients(mailoutbox, "Réponse à votre question") == [candidate.email]
    assert recipients(mailoutbox, "Nouvelle réponse publiée") == [
        "olivier@gip-exemple.test",
        "zoe@exemple.test",
    ]


def test_a_deadline_postponed_in_the_admin_notifies_everyone_once(
    call, admin_user, client, django_capture_on_commit_callbacks, mailoutbox
):
    client.force_login(admin_user)
    url = reverse("admin:aap_call_change", args=[call.pk])
    page = client.get(url).content.decode()
    management = dict(
        re.findall(r'name="([\w-]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)" value="(\d*)"', page)
    )
    later = dt.datetime(2024, 9, 17, 17, 0, tzinfo=PARIS)
    data = {
        **_admin_form(call, admin_user, deadline=later).data,
        **management,
        "_save": "Enregistrer",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Call.objects.get(pk=call.pk).deadline == later
    assert recipients(mailoutbox, "Date limite reportée") == EVERYONE
    assert "17 septembre 2024 à 17h00" in mailoutbox[0].body

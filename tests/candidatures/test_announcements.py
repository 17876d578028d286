"""Announcements: staff write to everyone concerned by a call, through the outbox, once
per address, with a history and each address's delivery status."""

import datetime as dt
import html
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aap.models import Call
from aap.states import CallStatus
from candidatures import announcements
from candidatures.models import (
    Announcement,
    AnnouncementFrozen,
    AnnouncementRecipient,
    Candidature,
)
from candidatures.states import CandidatureStatus
from core.exceptions import DomainError
from core.mail import deliver_email, requeue_pending_emails
from core.models import EmailStatus, OutgoingEmail
from core.roles import Role
from evaluation.models import Decision
from tests.factories import OrganisationFactory, UserFactory, dossier_ready_call

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2024, 9, 2, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def _frozen_time_and_private_storage(private_root):
    with time_machine.travel(NOW, tick=False):
        yield


def text(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


@pytest.fixture
def world(db, candidate, other_candidate, instructeur):
    """On one call: a draft (the candidate and a colleague), a submitted dossier (the other
    candidate and the same colleague, who belongs to both), a submitted and selected
    dossier (its member typed their address in capitals), and a draft whose only member
    left (an inactive account). An organisation without a dossier on the call, and a
    dossier on another call, must never hear of it."""
    call = dossier_ready_call(
        opens_at=dt.datetime(2024, 8, 1, 9, 0, tzinfo=PARIS),
        deadline=dt.datetime(2024, 9, 10, 17, 0, tzinfo=PARIS),
    )
    colleague = UserFactory(email="zoe@exemple.test", roles=[Role.CANDIDAT])
    laureate = UserFactory(email="Lea@Laureat.TEST", roles=[Role.CANDIDAT])
    gone = UserFactory(email="parti@exemple.test", roles=[Role.CANDIDAT], is_active=False)
    outsider = UserFactory(email="personne@ailleurs.test", roles=[Role.CANDIDAT])
    draft_org = OrganisationFactory(name="EPCI brouillon", members=[candidate, colleague])
    submitted_org = OrganisationFactory(name="GIP déposé", members=[other_candidate, colleague])
    selected_org = OrganisationFactory(name="Association retenue", members=[laureate])
    gone_org = OrganisationFactory(name="Structure partie", members=[gone])
    OrganisationFactory(name="Sans dossier", members=[outsider])

    def dossier(organisation, by, *, submitted=False):
        found = Candidature.objects.create(call=call, organisation=organisation, created_by=by)
        if submitted:
            # Test data only: submitted without a receipt (submission is tested elsewhere).
            Candidature.objects.filter(pk=found.pk).update(
                status=CandidatureStatus.SUBMITTED, submitted_at=timezone.now()
            )
        return found

    dossier(draft_org, candidate)
    dossier(submitted_org, other_candidate, submitted=True)
    selected = dossier(selected_org, laureate, submitted=True)
    dossier(gone_org, candidate)
    other_call = dossier_ready_call()
    Candidature.objects.create(
        call=other_call, organisation=OrganisationFactory(members=[outsider])
    )
    Decision.objects.create(
        candidature=selected,
        lot=call.lots.first(),
        outcome="selected",
        amount_granted=Decimal("25000"),
        fte_granted=Decimal("0.5"),
        decided_by=instructeur,
    )
    return {"call": call, "colleague": colleague, "laureate": laureate}


DRAFTS = ["camille@epci-exemple.test", "zoe@exemple.test"]
SUBMITTED = ["lea@laureat.test", "olivier@gip-exemple.test", "zoe@exemple.test"]
SELECTED = ["lea@laureat.test"]
EVERYONE = [
    "camille@epci-exemple.test",
    "lea@laureat.test",
    "olivier@gip-exemple.test",
    "zoe@exemple.test",
]


def decide(call):
    """Test data only: every decision of the call is notified."""
    Call.objects.filter(pk=call.pk).update(status=CallStatus.DECIDED)
    call.status = CallStatus.DECIDED


def send(call, by, audience, *, subject="Réunion d'information", body="Le 12 septembre à 14h."):
    return announcements.send_announcement(
        call, by=by, audience=audience, subject=subject, body=body
    )


# --- Refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["candidate", "evaluator", "ddets_reader"])
def test_only_an_instructeur_sends_an_announcement(request, world, persona, mailoutbox):
    user = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        send(world["call"], user, "everyone")
    assert Announcement.objects.count() == 0
    assert not OutgoingEmail.objects.filter(template="announcement").exists()


@pytest.mark.parametrize(
    ("subject", "body", "message"),
    [
        ("  ", "Un message", "Indiquez l'objet de l'annonce."),
        ("Un objet", " \n ", "Écrivez le message de l'annonce."),
    ],
)
def test_an_empty_subject_or_body_is_refused(world, instructeur, subject, body, message):
    with pytest.raises(DomainError) as refusal:
        send(world["call"], instructeur, "everyone", subject=subject, body=body)
    assert refusal.value.message == message
    assert Announcement.objects.count() == 0


def test_an_unknown_audience_is_refused(world, instructeur):
    with pytest.raises(DomainError, match="Choisissez à qui écrire"):
        send(world["call"], instructeur, "the-press")


def test_an_audience_with_nobody_in_it_sends_nothing(world, instructeur):
    # The call is not decided: nobody is « selected » yet.
    with pytest.raises(DomainError, match="Personne n'est concerné"):
        send(world["call"], instructeur, "selected")
    assert Announcement.objects.count() == 0
    assert not OutgoingEmail.objects.filter(template="announcement").exists()


@pytest.mark.parametrize("persona", ["candidate", "evaluator", "ddets_reader"])
def test_the_announcement_pages_answer_403_to_other_roles(
    request, world, instructeur, client_for, persona
):
    call = world["call"]
    announcement = send(call, instructeur, "drafts")
    client = client_for(request.getfixturevalue(persona))
    pages = [
        reverse("candidatures:announcements", args=[call.pk]),
        reverse("candidatures:announcement", args=[call.pk, announcement.pk]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 403
        assert b"zoe@exemple.test" not in response.content
    response = client.post(
        pages[0],
        {"audience": "everyone", "subject": "x", "body": "y", "token": "t", "confirm": "1"},
    )
    assert response.status_code == 403
    assert Announcement.objects.count() == 1


def test_an_announcement_of_another_call_is_not_found(world, instructeur, client_for):
    announcement = send(world["call"], instructeur, "drafts")
    other = dossier_ready_call()
    url = reverse("candidatures:announcement", args=[other.pk, announcement.pk])
    assert client_for(instructeur).get(url).status_code == 404


def test_a_double_click_sends_the_announcement_once(
    world, instructeur, client_for, django_capture_on_commit_callbacks, mailoutbox
):
    call = world["call"]
    client = client_for(instructeur)
    url = reverse("candidatures:announcements", args=[call.pk])
    data = {
        "audience": "everyone",
        "subject": "Réunion d'information",
        "body": "Le 12 septembre à 14h.",
        "token": announcements.new_token(),
        "confirm": "1",
    }
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, data)
        second = client.post(url, data, follow=True)
    announcement = Announcement.objects.get()
    assert first["Location"] == reverse(
        "candidatures:announcement", args=[call.pk, announcement.pk]
    )
    assert "Cette annonce vient d'être envoyée : elle ne part pas une seconde fois." in text(second)
    assert sorted(address for email in mailoutbox for address in email.to) == EVERYONE


def test_the_same_announcement_sent_again_within_ten_minutes_is_refused(world, instructeur):
    call = world["call"]
    send(call, instructeur, "drafts")
    with pytest.raises(announcements.DuplicateAnnouncement):
        send(call, instructeur, "drafts")
    with time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False):
        send(call, instructeur, "drafts")
    assert Announcement.objects.count() == 2


def test_a_sent_announcement_is_never_changed_nor_deleted(world, instructeur):
    announcement = send(world["call"], instructeur, "drafts")
    announcement.subject = "Autre chose"
    with pytest.raises(AnnouncementFrozen):
        announcement.save()
    with pytest.raises(AnnouncementFrozen):
        announcement.delete()
    assert Announcement.objects.get().subject == "Réunion d'information"


# --- Audiences --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("audience", "expected"),
    [("drafts", DRAFTS), ("submitted", SUBMITTED), ("selected", SELECTED), ("everyone", EVERYONE)],
)
def test_an_announcement_reaches_exactly_its_audience_each_address_once(
    world, instructeur, audience, expected, django_capture_on_commit_callbacks, mailoutbox
):
    call = world["call"]
    decide(call)
    with django_capture_on_commit_callbacks(execute=True):
        announcement = send(call, instructeur, audience)
    assert sorted(address for email in mailoutbox for address in email.to) == expected
    assert all(len(email.to) == 1 for email in mailoutbox)
    assert announcement.recipient_count == len(expected)
    assert [r.address for r in announcement.recipients.all()] == expected
    # Each e-mail names its account: the account's elimination takes it (retention).
    rows = OutgoingEmail.objects.filter(template="announcement").values_list("to", "user__email")
    assert sorted((to, account) for to, account in rows) == [([a], a) for a in expected]
    email = mailoutbox[0]
    assert email.subject.endswith(f"Réunion d'information ({call.reference})")
    assert "Le 12 septembre à 14h." in email.body
    url = f"http://testserver{call.get_absolute_url()}"
    assert url in email.body
    assert url in email.alternatives[0][0]
    addressed_to = {
        "drafts": "adressé aux structures ayant un dossier en brouillon.",
        "submitted": "adressé aux structures ayant déposé un dossier.",
        "selected": "adressé aux structures dont le dossier est retenu.",
        "everyone": "adressé à toutes les structures ayant un dossier.",
    }[audience]
    assert addressed_to in " ".join(email.body.split())


def test_sending_and_sweeping_twice_sends_one_email_per_address(
    world, instructeur, django_capture_on_commit_callbacks, mailoutbox
):
    call = world["call"]
    with django_capture_on_commit_callbacks(execute=True):
        announcement = send(call, instructeur, "everyone")
    assert len(mailoutbox) == 4
    later = timezone.now() + dt.timedelta(hours=1)
    for _ in range(2):
        requeue_pending_emails(now=later)
        for recipient in announcement.recipients.all():
            assert deliver_email(recipient.email_id) is False
    assert len(mailoutbox) == 4
    assert set(
        OutgoingEmail.objects.filter(template="announcement").values_list("status", flat=True)
    ) == {EmailStatus.SENT}


# --- Pages ------------------------------------------------------------------------------------


def test_staff_preview_the_count_then_confirm_and_follow_each_delivery(
    world, instructeur, client_for, django_capture_on_commit_callbacks, mailoutbox
):
    call = world["call"]
    client = client_for(instructeur)
    url = reverse("candidatures:announcements", args=[call.pk])
    page = client.get(url)
    assert page.status_code == 200
    token = page.context["form"]["token"].value()
    assert token
    data = {
        "audience": "submitted",
        "subject": "Pièces complémentaires",
        "body": "Merci de vérifier vos budgets.",
        "token": token,
    }
    preview = client.post(url, data)
    assert preview.status_code == 200
    assert "« Dossiers déposés » : ce message partira vers 3 adresses." in text(preview)
    assert "Confirmer l'envoi à 3 adresses" in text(preview)
    assert Announcement.objects.count() == 0 and mailoutbox == []

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {**data, "confirm": "1"})
    announcement = Announcement.objects.get()
    assert (announcement.sent_by, announcement.audience) == (instructeur, "submitted")
    assert (announcement.subject, announcement.body) == (data["subject"], data["body"])
    assert announcement.recipient_count == 3
    assert len(mailoutbox) == 3
    page = text(client.get(response["Location"]))
    assert "L'annonce part vers 3 adresses" in page
    for address in SUBMITTED:
        assert address in page
    assert page.count("Envoyé") >= 3

    # A delivery still pending reads as such, with its error.
    pending = announcement.recipients.get(address="zoe@exemple.test").email
    OutgoingEmail.objects.filter(pk=pending.pk).update(
        status=EmailStatus.PENDING, last_error="SMTPServerDisconnected: perdu"
    )
    detail = text(client.get(reverse("candidatures:announcement", args=[call.pk, announcement.pk])))
    assert "En attente" in detail
    assert "SMTPServerDisconnected: perdu" in detail

    history = text(client.get(url))
    assert "Pièces complémentaires" in history
    assert "Dossiers déposés" in history
    assert "2 / 3" in history
    assert str(instructeur) in history


def test_an_empty_form_is_refused_in_french_and_nothing_is_sent(
    world, instructeur, client_for, mailoutbox
):
    url = reverse("candidatures:announcements", args=[world["call"].pk])
    response = client_for(instructeur).post(
        url, {"audience": "everyone", "subject": "", "body": "", "token": "t", "confirm": "1"}
    )
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in text(response)
    assert Announcement.objects.count() == 0 and mailoutbox == []


def test_the_call_tabs_and_the_dossier_list_link_the_announcements_for_instructeurs(
    world, instructeur, ddets_reader, client_for
):
    call = world["call"]
    link = reverse("candidatures:announcements", args=[call.pk])
    page = client_for(instructeur).get(reverse("aap:backoffice_call", args=[call.pk]))
    assert link in page.content.decode()
    dossiers = reverse("candidatures:staff_dossiers", args=[call.pk])
    assert link in client_for(instructeur).get(dossiers).content.decode()
    assert link not in client_for(ddets_reader).get(dossiers).content.decode()


def test_recipients_keep_their_row_when_an_email_is_purged(world, instructeur):
    announcement = send(world["call"], instructeur, "drafts")
    OutgoingEmail.objects.all().delete()
    assert AnnouncementRecipient.objects.filter(announcement=announcement).count() == 2
    assert not AnnouncementRecipient.objects.filter(email__isnull=False).exists()


def test_the_pages_cost_the_same_queries_for_one_or_twenty_announcements_and_addresses(
    world, instructeur, client_for
):
    call = world["call"]
    client = client_for(instructeur)
    history_url = reverse("candidatures:announcements", args=[call.pk])
    first = send(call, instructeur, "everyone")
    detail_url = reverse("candidatures:announcement", args=[call.pk, first.pk])

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = (queries(history_url), queries(detail_url))
    organisation = OrganisationFactory(
        members=[UserFactory(roles=[Role.CANDIDAT]) for _ in range(20)]
    )
    Candidature.objects.create(call=call, organisation=organisation)
    for n in range(19):
        send(call, instructeur, "everyone", subject=f"Annonce {n}")
    many = Announcement.objects.filter(call=call).first()
    assert many.recipient_count == 24
    detail_url = reverse("candidatures:announcement", args=[call.pk, many.pk])
    assert (queries(history_url), queries(detail_url)) == few

"""Who reaches what in the candidates' space and the staff's follow-up: every URL of
``candidatures/urls.py`` with every persona, over data that could leak.

Outsiders get 404 for another organisation's things (never 200, never 403: they do not
learn that it exists); other roles get 403 on the staff's pages; anonymous visitors are
sent to log in.
"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from candidatures import followup, services
from candidatures.announcements import send_announcement
from candidatures.models import (
    Announcement,
    Answer,
    Candidature,
    Document,
    Invitation,
    Membership,
    Message,
    Organisation,
    PaperCopy,
    PieceRequest,
)
from candidatures.states import CandidatureStatus
from candidatures.urls import urlpatterns as candidatures_patterns
from core.permissions import RuleMixin
from tests.aap.test_permissions import _patterns
from tests.candidatures.conftest import PDF, fill
from tests.factories import OrganisationFactory, dossier_ready_call

LOGIN = "login"  # redirected to the login page
PERSONAS = ["anonymous", "candidate", "other_candidate", "instructeur", "evaluator", "ddets_reader"]
STAFF_WRITE_URLS = ["paper_copy", "staff_message", "piece_request", "close_piece_request"]


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Every test of this module stores its files in its own private folder."""


@pytest.fixture
def world(db, candidate, other_candidate, instructeur, evaluator, ddets_reader):
    """The candidate's organisation has a submitted dossier (answers, a file, a receipt,
    an open request for pieces) and a pending invitation; the other candidate has an
    organisation and a draft dossier of their own on the same call."""
    call = dossier_ready_call(funding_request_generated=True)
    organisation = OrganisationFactory(
        name="Communauté de communes secrète", siret="73282932000074", members=[candidate]
    )
    other_organisation = OrganisationFactory(name="GIP voisin", members=[other_candidate])
    dossier = Candidature.objects.create(call=call, organisation=organisation, created_by=candidate)
    fill(dossier, candidate)
    receipt = services.submit_candidature(
        dossier, by=candidate, received_at=timezone.now(), certified=True
    )
    other_dossier = Candidature.objects.create(
        call=call, organisation=other_organisation, created_by=other_candidate
    )
    piece_request = PieceRequest.objects.create(
        candidature=dossier,
        message="Merci de fournir le budget.",
        due_at=timezone.now() + dt.timedelta(days=7),
        created_by=instructeur,
    )
    piece_request.required_documents.set(call.required_documents.filter(multiple=True))
    message = followup.post_message(
        dossier,
        by=instructeur,
        body="La convocation, jointe.",
        attachment=SimpleUploadedFile("convocation.pdf", PDF),
    )
    announcement = send_announcement(
        call, by=instructeur, audience="everyone", subject="Réunion", body="Le 12 à 14h."
    )
    invitation = Invitation.objects.create(
        organisation=organisation,
        email="nadia@exemple.test",
        invited_by=candidate,
        expires_at=timezone.now() + dt.timedelta(days=14),
    )
    return {
        "call": call,
        "organisation": organisation,
        "other_organisation": other_organisation,
        "dossier": dossier,
        "other_dossier": other_dossier,
        "document": Document.objects.get(candidature=dossier),
        "receipt": receipt,
        "piece_request": piece_request,
        "invitation": invitation,
        "message": message,
        "announcement": announcement,
        "users": {
            "anonymous": None,
            "candidate": candidate,
            "other_candidate": other_candidate,
            "instructeur": instructeur,
            "evaluator": evaluator,
            "ddets_reader": ddets_reader,
        },
    }


def _members_only(method_allowed=True):
    """A URL about the candidate's organisation or dossier: its members only."""
    return {
        "anonymous": LOGIN,
        "candidate": 200 if method_allowed else 405,
        "other_candidate": 404,
        "instructeur": 404,
        "evaluator": 404,
        "ddets_reader": 404,
    }


CANDIDATES_ONLY = {
    "anonymous": LOGIN,
    "candidate": 200,
    "other_candidate": 200,
    "instructeur": 403,
    "evaluator": 403,
    "ddets_reader": 403,
}
STAFF_READ = {
    "anonymous": LOGIN,
    "candidate": 403,
    "other_candidate": 403,
    "instructeur": 200,
    "evaluator": 403,
    "ddets_reader": 200,
}
STAFF_WRITE_GET = {**STAFF_READ, "instructeur": 405, "ddets_reader": 403}
INSTRUCTEURS_ONLY = {**STAFF_READ, "ddets_reader": 403}


def get_matrix(w):
    """(URL name, args, {persona: expected status}) for a GET to every URL."""
    d, o = w["dossier"].pk, w["organisation"].pk
    doc, rec, req = w["document"].pk, w["receipt"].pk, w["piece_request"].pk
    return [
        ("my_dossiers", [], CANDIDATES_ONLY),
        ("organisation_create", [], CANDIDATES_ONLY),
        ("organisation", [o], _members_only()),
        ("organisation_edit", [o], _members_only()),
        ("invite", [o], _members_only(method_allowed=False)),
        (
            "invitation",
            [w["invitation"].token],
            {**dict.fromkeys(PERSONAS, 200), "anonymous": LOGIN},
        ),
        ("start", [w["call"].slug], {**CANDIDATES_ONLY, "candidate": 302, "other_candidate": 302}),
        ("dossier", [d], _members_only()),
        ("preview", [d], _members_only()),
        ("answers", [d], _members_only()),
        ("documents", [d], _members_only()),
        ("upload", [d, w["document"].required_document_id], _members_only(False)),
        ("download", [d, doc], _members_only()),
        ("delete_document", [d, doc], _members_only(False)),
        ("submit", [d], _members_only()),
        ("withdraw", [d], _members_only()),
        ("receipt", [d, rec], _members_only()),
        ("funding_request", [d, rec], _members_only()),
        ("message", [d], _members_only(False)),
        ("message_attachment", [d, w["message"].pk], _members_only()),
        ("staff_message_attachment", [d, w["message"].pk], STAFF_READ),
        ("announcements", [w["call"].pk], INSTRUCTEURS_ONLY),
        ("form_preview", [w["call"].pk], INSTRUCTEURS_ONLY),
        ("announcement", [w["call"].pk, w["announcement"].pk], INSTRUCTEURS_ONLY),
        ("staff_dossiers", [w["call"].pk], STAFF_READ),
        ("staff_dossiers_export", [w["call"].pk, "csv"], STAFF_READ),
        ("staff_dossiers_bulk", [w["call"].pk], STAFF_WRITE_GET),
        ("staff_dossier", [d], STAFF_READ),
        ("staff_download", [d, doc], STAFF_READ),
        ("staff_receipt", [d, rec], STAFF_READ),
        ("staff_funding_request", [d, rec], STAFF_READ),
        ("paper_copy", [d], STAFF_WRITE_GET),
        ("staff_message", [d], STAFF_WRITE_GET),
        ("piece_request", [d], STAFF_WRITE_GET),
        ("close_piece_request", [d, req], STAFF_WRITE_GET),
        (
            "verify_receipt",
            [w["receipt"].token],
            # Instructeurs and the DDETS check a receipt from its QR code.
            STAFF_READ,
        ),
    ]


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def check(response, expected) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(
            reverse("accounts:login")
        )
    return response.status_code == expected


def leaks(response, persona, world) -> bool:
    """Whether a response to someone outside the organisation shows its SIRET or name."""
    if persona not in ("anonymous", "other_candidate") and response.status_code < 400:
        return False
    body = body_of(response)
    organisation = world["organisation"]
    return organisation.siret.encode() in body or organisation.name.encode() in body


def test_every_candidatures_url_is_in_the_matrix(world):
    names = {pattern.name for pattern in candidatures_patterns}
    assert {name for name, _args, _expected in get_matrix(world)} == names


def test_persona_url_matrix_for_reading(world, client_for):
    failures = []
    for name, args, expected_by_persona in get_matrix(world):
        url = reverse(f"candidatures:{name}", args=args)
        for persona, expected in expected_by_persona.items():
            # The invitation page names the organisation to whoever holds the link.
            response = client_for(world["users"][persona]).get(url)
            if not check(response, expected):
                failures.append(f"{persona} GET {url}: {response.status_code}, expected {expected}")
            elif name != "invitation" and leaks(response, persona, world):
                failures.append(f"{persona} GET {url}: shows the organisation")
    assert failures == []


def test_the_start_url_leads_each_candidate_to_their_own_dossier(world, client_for):
    url = reverse("candidatures:start", args=[world["call"].slug])
    mine = client_for(world["users"]["candidate"]).get(url)
    theirs = client_for(world["users"]["other_candidate"]).get(url)
    assert mine["Location"] == reverse("candidatures:dossier", args=[world["dossier"].pk])
    assert theirs["Location"] == reverse("candidatures:dossier", args=[world["other_dossier"].pk])
    assert Candidature.objects.count() == 2


def test_the_list_of_dossiers_shows_only_ones_own(world, client_for):
    page = client_for(world["users"]["other_candidate"]).get(reverse("candidatures:my_dossiers"))
    content = page.content.decode()
    assert "GIP voisin" in content
    assert world["organisation"].name not in content
    assert list(page.context["dossiers"]) == [world["other_dossier"]]


def test_the_members_and_the_staff_download_the_same_file(world, client_for):
    d, doc = world["dossier"].pk, world["document"].pk
    for persona, name in [
        ("candidate", "candidatures:download"),
        ("instructeur", "candidatures:staff_download"),
        ("ddets_reader", "candidatures:staff_download"),
    ]:
        response = client_for(world["users"][persona]).get(reverse(name, args=[d, doc]))
        assert response["Content-Disposition"] == 'attachment; filename="dossier.pdf"', persona
        assert response["X-Content-Type-Options"] == "nosniff"
        assert body_of(response) == PDF


def test_the_ddets_reader_reads_the_staff_dossier_page_without_its_forms(world, client_for):
    response = client_for(world["users"]["ddets_reader"]).get(
        reverse("candidatures:staff_dossier", args=[world["dossier"].pk])
    )
    page = response.content.decode()
    assert world["organisation"].siret in page
    assert response.context["can_manage"] is False
    for name in STAFF_WRITE_URLS[:3]:
        assert reverse(f"candidatures:{name}", args=[world["dossier"].pk]) not in page


# --- Writes ---------------------------------------------------------------------------------------


def post_matrix(w):
    """(URL name, args, data, {persona: expected status}) for the POSTs that change things.

    Only refusals are listed: the candidate's own writes are tested where they live."""
    d, o = w["dossier"].pk, w["organisation"].pk
    doc = w["document"]
    outsiders = {
        "anonymous": LOGIN,
        # A candidate outside the organisation, and the staff, who never use these URLs.
        "other_candidate": 404,
        "instructeur": 404,
        "evaluator": 404,
        "ddets_reader": 404,
    }
    staff_refused = {
        "anonymous": LOGIN,
        "candidate": 403,
        "other_candidate": 403,
        "evaluator": 403,
        "ddets_reader": 403,
    }
    question = w["call"].form_questions.get(label="Résumé du projet")
    return [
        ("organisation_edit", [o], {"name": "Pris", "siret": w["organisation"].siret}, outsiders),
        ("invite", [o], {"email": "intrus@exemple.test"}, outsiders),
        (
            "start",
            [w["call"].slug],
            {"organisation": o},
            {**outsiders, "instructeur": 403, "evaluator": 403, "ddets_reader": 403},
        ),
        ("answers", [d], {f"q{question.pk}": "Changé par un autre"}, outsiders),
        ("upload", [d, doc.required_document_id], {}, outsiders),
        ("delete_document", [d, doc.pk], {}, outsiders),
        ("submit", [d], {"certified": "on"}, outsiders),
        ("withdraw", [d], {"note": "Retiré par un autre"}, outsiders),
        ("message", [d], {"body": "Message d'un intrus"}, outsiders),
        (
            "paper_copy",
            [d],
            {
                "method": "mail",
                "postmarked_on": "2030-01-01",
                "received_on": "2030-01-02",
                "identical": "yes",
            },
            staff_refused,
        ),
        ("staff_message", [d], {"body": "Message d'un intrus"}, staff_refused),
        (
            "piece_request",
            [d],
            {
                "required_documents": [doc.required_document_id],
                "message": "Intrus",
                "due_date": "2031-01-01",
                "due_time": "17:00",
            },
            staff_refused,
        ),
        ("close_piece_request", [d, w["piece_request"].pk], {}, staff_refused),
        (
            "announcements",
            [w["call"].pk],
            {
                "audience": "everyone",
                "subject": "Intrus",
                "body": "Message d'un intrus",
                "token": "intrus",
                "confirm": "1",
            },
            staff_refused,
        ),
    ]


def snapshot(world):
    dossier = Candidature.objects.get(pk=world["dossier"].pk)
    return {
        "organisation": Organisation.objects.filter(pk=world["organisation"].pk).values().get(),
        "memberships": sorted(Membership.objects.values_list("organisation", "user")),
        "invitations": sorted(Invitation.objects.values_list("pk", "email", "accepted_at")),
        "candidatures": Candidature.objects.count(),
        "status": dossier.status,
        "submitted_at": dossier.submitted_at,
        "answers": sorted(Answer.objects.values_list("pk", "value")),
        "documents": sorted(Document.objects.values_list("pk", "sha256")),
        "messages": Message.objects.count(),
        "announcements": Announcement.objects.count(),
        "paper_copies": PaperCopy.objects.count(),
        "piece_requests": sorted(PieceRequest.objects.values_list("pk", "closed_at")),
    }


@pytest.mark.parametrize("persona", PERSONAS)
def test_refused_writes_answer_as_expected_and_change_nothing(world, client_for, persona):
    before = snapshot(world)
    client = client_for(world["users"][persona])
    failures = []
    for name, args, data, expected_by_persona in post_matrix(world):
        if persona not in expected_by_persona:
            continue
        url = reverse(f"candidatures:{name}", args=args)
        response = client.post(url, data)
        expected = expected_by_persona[persona]
        if not check(response, expected):
            failures.append(f"{persona} POST {url}: {response.status_code}, expected {expected}")
        elif leaks(response, persona, world):
            failures.append(f"{persona} POST {url}: shows the organisation")
    assert failures == []
    assert snapshot(world) == before


def test_an_invitation_cannot_be_accepted_by_another_candidate(world, client_for):
    before = snapshot(world)
    response = client_for(world["users"]["other_candidate"]).post(
        reverse("candidatures:invitation", args=[world["invitation"].token])
    )
    assert response["Location"] == reverse(
        "candidatures:invitation", args=[world["invitation"].token]
    )
    assert snapshot(world) == before


def test_the_instructeur_writes_where_the_ddets_reader_may_not(world, client_for):
    """The same POSTs that answer 403 to the DDETS reader work for an instructeur: the
    refusals above are the rule's, not a broken URL's."""
    client = client_for(world["users"]["instructeur"])
    for name, args, data, _expected in post_matrix(world):
        if name not in STAFF_WRITE_URLS:
            continue
        response = client.post(reverse(f"candidatures:{name}", args=args), data)
        assert response.status_code == 302, name
        assert response["Location"].startswith(
            reverse("candidatures:staff_dossier", args=[world["dossier"].pk])
        )
    assert PaperCopy.objects.filter(candidature=world["dossier"]).exists()
    assert Message.objects.filter(candidature=world["dossier"], from_staff=True).exists()
    assert PieceRequest.objects.count() == 2
    world["piece_request"].refresh_from_db()
    assert world["piece_request"].closed_at is not None
    world["dossier"].refresh_from_db()
    assert world["dossier"].status == CandidatureStatus.SUBMITTED


# --- Every view declares a rule --------------------------------------------------------------------


def test_every_url_of_the_project_declares_a_rule_including_the_candidatures_ones():
    walked = dict(_patterns())
    missing = []
    for name, callback in walked.items():
        view_class = getattr(callback, "view_class", None)
        if view_class is not None:
            if not (issubclass(view_class, RuleMixin) and view_class.rule is not None):
                missing.append(name)
        elif getattr(callback, "rule", None) is None:
            missing.append(name)
    assert missing == []
    assert {f"candidatures:{p.name}" for p in candidatures_patterns} <= set(walked)


def test_no_candidatures_url_lets_anonymous_visitors_in():
    for pattern in candidatures_patterns:
        assert getattr(pattern.callback, "login_required", True), pattern.name
        assert not pattern.callback.view_class.public, pattern.name

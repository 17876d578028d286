"""Letters that hold: every decision letter, inadmissibility included, carries the « voies
et délais de recours » with the court and the two-month limit, worded per authority and
per call; staff preview each letter (writing nothing) and edit its free paragraphs, then
confirm; a task renders and sends them after commit, never the request; staff then see
each one with its dispatch and its delivery. Notification needs every lot's record."""

import datetime as dt
import html
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from aap.states import CallStatus
from core.exceptions import DomainError
from core.models import EmailStatus, OutgoingEmail
from evaluation import letters
from evaluation.models import CommitteeRecord, NotificationLetter
from evaluation.states import LetterKind, LetterStatus
from tests.evaluation import notified as world
from tests.pdf import pdf_text

DAY = dt.datetime(2026, 2, 17, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
RECOURS = [
    "Voies et délais de recours",
    "La présente décision peut être contestée dans un délai de deux mois à compter de sa "
    "notification, par un recours gracieux adressé à Monsieur le Président du Département de "
    "l'Isère (Hôtel du Département, 7 rue Fantin-Latour, CS 41096, 38022 Grenoble Cedex 1)",
    "recours contentieux devant le tribunal administratif de Grenoble (2 place de Verdun, "
    "BP 1135, 38022 Grenoble Cedex)",
    "Télérecours citoyens, accessible sur le site https://citoyens.telerecours.fr",
]
SIGNATURE = (
    "Pour le Président du Département de l'Isère et par délégation, "
    "La cheffe du service Insertion Vers l'Emploi"
)


@pytest.fixture(autouse=True)
def _private_storage(private_root):
    """Letters and records are stored in this test's own private folder."""


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(DAY, tick=True):
        yield


@pytest.fixture
def decided(graded_call, instructeur, evaluators):
    return world.decide(graded_call, instructeur=instructeur, evaluator=evaluators[0])


def notify(call, by, capture):
    return world.notify(call, by=by, capture=capture)


def letter_text(candidature) -> str:
    # In drawing order: a table cell's lines stay together.
    return unwrapped(pdf_text(world.stored(world.decision_letter(candidature)), order="raw"))


def unwrapped(text: str) -> str:
    """Lines may wrap after a hyphen or a slash (« Fantin-Latour », an address)."""
    return re.sub(r"(?<=[-/]) ", "", text)


def files(root) -> list:
    return sorted(str(path) for path in root.rglob("*") if path.is_file())


# --- The recours paragraph, whatever the outcome -----------------------------------------------


@pytest.mark.parametrize(
    ("dossier", "outcome"),
    [
        ("alpha", "Lot 1 Retenu 24 500,00 € pour 0,5 ETP"),
        ("beta", f"Lot 1 Non retenu {world.NOT_SELECTED_REASON}"),
        ("gamma", "Lot 1 Liste d'attente Votre dossier est inscrit sur la liste d'attente."),
        (
            "delta",
            f"n'a pas été jugé recevable ; il n'a donc pas été évalué. Motif : "
            f"{world.INADMISSIBLE_REASON}",
        ),
    ],
)
def test_every_letter_carries_the_recours_with_the_court_and_the_two_months(
    decided, graded_call, instructeur, django_capture_on_commit_callbacks, dossier, outcome
):
    notify(graded_call, instructeur, django_capture_on_commit_callbacks)

    text = letter_text(decided[dossier])

    assert outcome in text
    for expected in RECOURS:
        assert expected in text, expected
    assert SIGNATURE in text
    assert "Grenoble, le 17 février 2026" in text


def test_the_authority_sets_the_wording_court_and_signatory(
    decided, graded_call, instructeur, settings, django_capture_on_commit_callbacks
):
    settings.LETTER_APPEAL_COURT = "tribunal administratif de Lyon"
    settings.LETTER_APPEAL_COURT_ADDRESS = "184 rue Duguesclin, 69433 Lyon Cedex 03"
    settings.LETTER_SIGNATORY_NAME = "Jeanne Martin"
    settings.LETTER_SIGNATORY_TITLE = "Directrice des solidarités"
    notify(graded_call, instructeur, django_capture_on_commit_callbacks)

    text = letter_text(decided["beta"])

    assert (
        "recours contentieux devant le tribunal administratif de Lyon (184 rue Duguesclin" in text
    )
    assert "tribunal administratif de Grenoble" not in text
    assert "Directrice des solidarités Jeanne Martin" in text


def test_a_call_overrides_the_authority_through_its_letters_page(
    decided, graded_call, instructeur, client_for, django_capture_on_commit_callbacks
):
    client = client_for(instructeur)
    url = reverse("evaluation:letter_terms", args=[graded_call.pk])
    form = client.get(url)
    assert form.status_code == 200
    assert "tribunal administratif de Grenoble" in html.unescape(form.content.decode())

    response = client.post(
        url,
        {
            "letter_signatory_name": "Paul Durand",
            "letter_signatory_title": "Directeur général adjoint",
            "appeal_wording": (
                "Cette décision peut faire l'objet d'un recours devant le tribunal "
                "administratif de Grenoble dans un délai de deux mois à compter de sa "
                "notification, y compris par Télérecours citoyens (https://citoyens.telerecours.fr)."
            ),
        },
    )
    assert response.status_code == 302
    graded_call.refresh_from_db()
    assert (graded_call.letter_signatory_name, graded_call.letter_place) == ("Paul Durand", "")
    notify(graded_call, instructeur, django_capture_on_commit_callbacks)

    text = letter_text(decided["gamma"])
    assert "Cette décision peut faire l'objet d'un recours devant le tribunal administratif" in text
    assert "recours gracieux adressé à" not in text  # the call's own wording, whole
    assert "Directeur général adjoint Paul Durand" in text
    assert "Grenoble, le 17 février 2026" in text  # the place: the authority's default


# --- Before sending: refusals, previews, paragraphs ----------------------------------------------


def test_notification_needs_the_frozen_record_of_every_lot(
    graded_call, instructeur, evaluators, django_capture_on_commit_callbacks
):
    decided = world.decide(
        graded_call, instructeur=instructeur, evaluator=evaluators[0], freeze=False
    )
    assert not CommitteeRecord.objects.exists()

    with pytest.raises(DomainError) as refusal:
        notify(graded_call, instructeur, django_capture_on_commit_callbacks)

    assert refusal.value.problems == [
        f"Procès-verbal du comité non figé : lot {decided['lot'].name} (figez-le depuis son "
        "classement)"
    ]
    graded_call.refresh_from_db()
    assert graded_call.status == CallStatus.UNDER_REVIEW
    assert (
        not NotificationLetter.objects.exists()
        and not OutgoingEmail.objects.filter(template="decision_notified").exists()
    )


def test_previews_and_the_paragraphs_form_write_nothing(
    decided, instructeur, client_for, private_root
):
    client = client_for(instructeur)
    beta = decided["beta"]
    before = (
        NotificationLetter.objects.count(),
        OutgoingEmail.objects.count(),
        files(private_root),
    )

    page = client.get(reverse("evaluation:letter_preview", args=[beta.pk, "html"]))
    pdf = client.get(reverse("evaluation:letter_preview", args=[beta.pk, "pdf"]))
    form = client.get(reverse("evaluation:letter_draft", args=[beta.pk]))

    assert page.status_code == pdf.status_code == form.status_code == 200
    assert "Voies et délais de recours" in html.unescape(page.content.decode())
    assert pdf["Content-Disposition"].startswith("inline;")
    text = unwrapped(pdf_text(pdf.content))
    assert world.NOT_SELECTED_REASON in text and "tribunal administratif de Grenoble" in text
    assert "a été examiné par le comité de sélection" in html.unescape(form.content.decode())
    after = (NotificationLetter.objects.count(), OutgoingEmail.objects.count(), files(private_root))
    assert after == before


def test_the_paragraphs_written_for_a_dossier_are_previewed_then_sent(
    decided, graded_call, instructeur, client_for, django_capture_on_commit_callbacks
):
    client = client_for(instructeur)
    gamma = decided["gamma"]
    opening = "Votre dossier a retenu l'attention du comité, qui salue sa qualité."
    response = client.post(
        reverse("evaluation:letter_draft", args=[gamma.pk]), {"opening": opening, "closing": ""}
    )
    assert response.status_code == 302
    draft = world.decision_letter(gamma)
    assert (draft.status, draft.opening, bool(draft.pdf)) == (LetterStatus.DRAFT, opening, False)
    preview = html.unescape(
        client.get(reverse("evaluation:letter_preview", args=[gamma.pk, "html"])).content.decode()
    )
    assert opening in preview

    notify(graded_call, instructeur, django_capture_on_commit_callbacks)

    text = letter_text(gamma)
    assert opening in text
    assert "Le Service Insertion Vers l'Emploi reste à votre disposition" in text  # default
    refused = client.post(
        reverse("evaluation:letter_draft", args=[gamma.pk]), {"opening": "Trop tard", "closing": ""}
    )
    assert refused.status_code == 400
    assert "elle ne change plus" in html.unescape(refused.content.decode())
    assert world.decision_letter(gamma).opening == opening


# --- Sending: by the task, after commit ---------------------------------------------------------


def test_the_request_confirms_and_the_task_renders_and_sends_after_commit(
    decided, graded_call, instructeur, client_for, django_capture_on_commit_callbacks, mailoutbox
):
    client = client_for(instructeur)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("evaluation:notify", args=[graded_call.pk]))
    assert response.status_code == 302
    # The request only confirmed: nothing rendered, nothing mailed yet.
    letters_ = list(NotificationLetter.objects.all())
    assert len(letters_) == 4
    assert {(letter.status, bool(letter.pdf), letter.email_id) for letter in letters_} == {
        (LetterStatus.QUEUED, False, None)
    }
    graded_call.refresh_from_db()
    assert graded_call.status == CallStatus.DECIDED

    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()

    for letter in NotificationLetter.objects.select_related("candidature__organisation"):
        assert letter.status == LetterStatus.SENT
        assert letter.sent_at is not None and len(letter.sha256) == 64
        member = letter.candidature.organisation.memberships.get().user
        [message] = [m for m in mailoutbox if m.to == [member.email]]
        assert [name for name, _data, _mime in message.attachments] == [
            f"Notification-{graded_call.reference}.pdf"
        ]


def test_a_second_task_or_the_sweep_sends_nothing_twice(
    decided, graded_call, instructeur, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        letters.notify_decisions(graded_call, by=instructeur)  # the broker never got them
    waiting = NotificationLetter.objects.get(candidature=decided["alpha"])

    assert letters.requeue_queued_letters() == 0  # confirmed a moment ago: left alone
    with django_capture_on_commit_callbacks(execute=True):
        later = dt.datetime.now(tz=ZoneInfo("UTC")) + dt.timedelta(minutes=2)
        assert letters.requeue_queued_letters(now=later) == 4  # sent eagerly here
    assert set(NotificationLetter.objects.values_list("status", flat=True)) == {LetterStatus.SENT}
    assert letters.send_letter(waiting.pk) is False
    assert OutgoingEmail.objects.filter(template="decision_notified").count() == 4


def test_staff_see_each_letter_with_its_dispatch_and_delivery(
    decided, graded_call, instructeur, client_for, django_capture_on_commit_callbacks
):
    notify(graded_call, instructeur, django_capture_on_commit_callbacks)
    alpha_letter = world.decision_letter(decided["alpha"])
    beta_letter = world.decision_letter(decided["beta"])
    # Alpha's message left; beta's waits for a mail server that refused it.
    assert OutgoingEmail.objects.get(pk=alpha_letter.email_id).status == EmailStatus.SENT
    OutgoingEmail.objects.filter(pk=beta_letter.email_id).update(status=EmailStatus.PENDING)
    client = client_for(instructeur)

    listing = html.unescape(
        client.get(reverse("evaluation:notify", args=[graded_call.pk])).content.decode()
    )
    dossier = html.unescape(
        client.get(reverse("evaluation:dossier", args=[decided["alpha"].pk])).content.decode()
    )

    assert "Lettres de l'appel" in listing
    for name in (world.ALPHA, world.BETA, world.GAMMA, world.DELTA):
        assert name in listing
    assert listing.count("17 février 2026 à 10h") >= 4  # the date of dispatch of each
    assert "Envoyé" in listing and "En attente" in listing  # the outbox's delivery status
    download = reverse("evaluation:letter_file", args=[decided["alpha"].pk, alpha_letter.pk])
    assert download in listing and download in dossier
    assert "</strong> – Envoyée, envoyée le 17 février 2026 à 10h" in dossier
    assert "Courriel : Envoyé" in dossier
    response = client.get(download)
    assert b"".join(response.streaming_content) == world.stored(alpha_letter)


def test_letter_kinds_are_one_decision_letter_per_dossier(
    decided, graded_call, instructeur, django_capture_on_commit_callbacks
):
    notify(graded_call, instructeur, django_capture_on_commit_callbacks)
    assert (
        NotificationLetter.objects.filter(kind=LetterKind.DECISION).count()
        == NotificationLetter.objects.count()
        == 4
    )

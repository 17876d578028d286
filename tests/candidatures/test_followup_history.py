"""What the Service IVE records about a dossier keeps its history: a paper copy's
reception and each correction (with its reason, since a postmark can decide whether a
dossier was on time), a request for pieces sent and closed. History rows are never
changed or deleted."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from candidatures import followup
from candidatures.models import PaperCopy, PaperCopyRevision, PieceRequestRevision
from core.exceptions import DomainError
from tests.candidatures.test_staff import SEPT_17, post_paper_copy, set_deadline, submit

INSTANT = dt.datetime(2024, 9, 20, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def deposited(complete_dossier, candidate, time_machine):
    time_machine.move_to(dt.datetime(2024, 9, 2, 8, 0, tzinfo=dt.UTC), tick=False)
    complete_dossier.call.paper_copy_required = True
    complete_dossier.call.save(update_fields=["paper_copy_required"])
    submit(complete_dossier, candidate)
    set_deadline(complete_dossier.call, SEPT_17)
    time_machine.move_to(INSTANT, tick=False)
    return complete_dossier


def page(response) -> str:
    """The page's text: tags dropped, spaces collapsed."""
    text = re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode()))
    return re.sub(r"\s+", " ", text)


def test_a_correction_needs_a_reason_and_keeps_the_first_version(
    client_for, instructeur, deposited
):
    client = client_for(instructeur)
    post_paper_copy(
        client, deposited, method="mail", postmarked_on=SEPT_17, received_on=dt.date(2024, 9, 19)
    )
    refused = post_paper_copy(
        client,
        deposited,
        method="mail",
        postmarked_on=dt.date(2024, 9, 18),
        received_on=dt.date(2024, 9, 19),
        reason="",
    )
    paper = PaperCopy.objects.get(candidature=deposited)
    assert paper.postmarked_on == SEPT_17
    assert "Motif de la correction : Ce champ est obligatoire." in page(refused)

    corrected = post_paper_copy(
        client,
        deposited,
        method="mail",
        postmarked_on=dt.date(2024, 9, 18),
        received_on=dt.date(2024, 9, 19),
        reason="Cachet mal lu : 18 et non 17.",
    )

    paper.refresh_from_db()
    assert paper.postmarked_on == dt.date(2024, 9, 18)
    first, second = PaperCopyRevision.objects.filter(paper_copy=paper)
    assert (first.action, first.before, first.by) == ("recorded", None, instructeur)
    assert first.after["date du cachet de la Poste"] == "17 septembre 2024"
    assert (second.action, second.note) == ("corrected", "Cachet mal lu : 18 et non 17.")
    assert second.changes() == [
        ("date du cachet de la Poste", "17 septembre 2024", "18 septembre 2024")
    ]
    text = page(corrected)
    assert "Réception corrigée – 20 septembre 2024 à 11h30" in text
    assert "Motif : Cachet mal lu : 18 et non 17." in text
    assert "Date du cachet de la Poste : 17 septembre 2024 → 18 septembre 2024" in text
    assert "Hors délai" in text


def test_the_service_refuses_a_correction_without_reason(instructeur, deposited):
    followup.record_paper_copy(
        deposited, by=instructeur, method="mail", postmarked_on=SEPT_17, received_on=SEPT_17
    )
    with pytest.raises(DomainError, match="motif de la correction"):
        followup.record_paper_copy(
            deposited,
            by=instructeur,
            method="mail",
            postmarked_on=dt.date(2024, 9, 16),
            received_on=SEPT_17,
        )
    assert PaperCopy.objects.get(candidature=deposited).postmarked_on == SEPT_17
    assert PaperCopyRevision.objects.count() == 1


def test_the_same_values_again_write_no_history(instructeur, deposited):
    for _attempt in range(2):
        followup.record_paper_copy(
            deposited,
            by=instructeur,
            reason="Même saisie",
            method="mail",
            postmarked_on=SEPT_17,
            received_on=SEPT_17,
        )
    assert PaperCopyRevision.objects.count() == 1


def test_a_request_for_pieces_keeps_when_it_was_sent_and_closed(
    client_for, instructeur, deposited, time_machine
):
    piece = deposited.call.required_documents.get(mandatory=True)
    request = followup.request_pieces(
        deposited,
        by=instructeur,
        required_documents=[piece],
        message="Merci de fournir le budget signé.",
        due_at=INSTANT + dt.timedelta(days=7),
    )
    time_machine.shift(dt.timedelta(days=2))
    followup.close_piece_request(request, by=instructeur)
    followup.close_piece_request(request, by=instructeur)  # twice: one history row

    sent, closed = PieceRequestRevision.objects.filter(piece_request=request)
    assert sent.action == "requested" and sent.after["pièces demandées"] == piece.label
    assert sent.after["à fournir avant le"] == "27 septembre 2024 à 11h30"
    assert closed.action == "closed"
    assert closed.changes() == [("close le", None, "22 septembre 2024 à 11h30")]
    text = page(
        client_for(instructeur).get(reverse("candidatures:staff_dossier", args=[deposited.pk]))
    )
    assert "Demande envoyée – 20 septembre 2024 à 11h30" in text
    assert "Demande close – 22 septembre 2024 à 11h30" in text


def test_history_rows_are_never_changed_or_deleted(instructeur, deposited):
    paper = followup.record_paper_copy(
        deposited, by=instructeur, method="mail", postmarked_on=SEPT_17, received_on=SEPT_17
    )
    revision = paper.revisions.get()
    revision.note = "Réécrit"
    with pytest.raises(ValueError, match="never changed"):
        revision.save()
    with pytest.raises(ValueError, match="never deleted"):
        revision.delete()
    assert PaperCopyRevision.objects.get().note == ""

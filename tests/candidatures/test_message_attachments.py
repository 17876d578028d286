"""A file joined to a dossier's message: checked like every upload, stored privately,
downloaded by the dossier's members and the staff only."""

import html
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from candidatures import followup
from candidatures.models import Message, Reading
from tests.candidatures.conftest import PDF
from tests.candidatures.test_hostile_uploads import expected_message
from tests.hostile import HOSTILE


def text(response) -> str:
    return " ".join(html.unescape(response.content.decode()).split())


def stored(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def pdf(name="convocation.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_staff_join_a_file_that_members_and_staff_download_and_outsiders_do_not(
    client_for,
    dossier,
    candidate,
    other_candidate,
    instructeur,
    ddets_reader,
    evaluator,
    private_root,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(instructeur).post(
            reverse("candidatures:staff_message", args=[dossier.pk]),
            {"body": "Voici la convocation.", "attachment": pdf()},
            follow=True,
        )
    assert "Le message est envoyé au candidat." in text(response)
    message = Message.objects.get()
    assert (message.attachment_name, message.attachment_size) == ("convocation.pdf", len(PDF))
    assert len(stored(private_root)) == 1
    assert "convocation.pdf" in mailoutbox[0].body
    assert "convocation.pdf" in mailoutbox[0].alternatives[0][0]
    assert mailoutbox[0].attachments == []  # the file stays on the platform

    member_url = reverse("candidatures:message_attachment", args=[dossier.pk, message.pk])
    staff_url = reverse("candidatures:staff_message_attachment", args=[dossier.pk, message.pk])
    page = client_for(candidate).get(reverse("candidatures:dossier", args=[dossier.pk]))
    assert member_url in page.content.decode()
    for user, url in [
        (candidate, member_url),
        (instructeur, staff_url),
        (ddets_reader, staff_url),
    ]:
        response = client_for(user).get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"] == 'attachment; filename="convocation.pdf"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert body_of(response) == PDF
    assert Reading.objects.filter(reader=ddets_reader, what__contains="convocation.pdf").exists()

    # Outsiders: another candidate does not find the dossier, other roles are refused.
    assert client_for(other_candidate).get(member_url).status_code == 404
    assert client_for(instructeur).get(member_url).status_code == 404
    assert client_for(other_candidate).get(staff_url).status_code == 403
    assert client_for(evaluator).get(staff_url).status_code == 403
    # A message without a file has nothing to download.
    plain = followup.post_message(dossier, by=candidate, body="Merci.")
    url = reverse("candidatures:message_attachment", args=[dossier.pk, plain.pk])
    assert client_for(candidate).get(url).status_code == 404


@pytest.mark.parametrize("kind", ["pdf with JavaScript", "docx with vbaProject.bin", "zip bomb"])
def test_a_hostile_attachment_is_refused_in_french_and_the_text_is_kept(
    kind, client_for, dossier, candidate, private_root, mailoutbox
):
    build, code = HOSTILE[kind]
    name, content = build()
    reason = expected_message(name, content, code)
    client = client_for(candidate)
    response = client.post(
        reverse("candidatures:message", args=[dossier.pk]),
        {"body": "Notre budget, en pièce jointe.", "attachment": SimpleUploadedFile(name, content)},
        follow=True,
    )
    page = text(response)
    assert f"La pièce jointe est refusée, le message n'est pas envoyé : {reason}" in page
    assert "Notre budget, en pièce jointe.</textarea>" in page  # nothing typed is lost
    assert not Message.objects.exists()
    assert stored(private_root) == []
    assert mailoutbox == []


def test_a_file_whose_content_is_not_its_extension_is_refused(
    client_for, dossier, candidate, private_root
):
    response = client_for(candidate).post(
        reverse("candidatures:message", args=[dossier.pk]),
        {"body": "Le programme.", "attachment": SimpleUploadedFile("programme.exe", b"MZ\x90\x00")},
        follow=True,
    )
    assert "n'est pas accepté ici" in text(response)
    assert not Message.objects.exists()
    assert stored(private_root) == []


def test_a_double_click_with_a_file_posts_and_stores_once(
    client_for,
    dossier,
    candidate,
    instructeur,
    private_root,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    client = client_for(candidate)
    url = reverse("candidatures:message", args=[dossier.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"body": "Notre budget.", "attachment": pdf("budget.pdf")})
        response = client.post(
            url, {"body": "Notre budget.", "attachment": pdf("budget.pdf")}, follow=True
        )
    assert "Ce message vient d'être envoyé sur ce dossier." in text(response)
    assert Message.objects.count() == 1
    assert len(stored(private_root)) == 1
    assert [email.to for email in mailoutbox] == [[instructeur.email]]


def test_a_file_over_ten_megabytes_is_dropped_while_it_streams_and_the_message_waits(
    client_for, dossier, instructeur, private_root, mailoutbox
):
    big = SimpleUploadedFile("programme.pdf", PDF + b"0" * (10 * 1024 * 1024))
    response = client_for(instructeur).post(
        reverse("candidatures:staff_message", args=[dossier.pk]),
        {"body": "Le programme complet.", "attachment": big},
        follow=True,
    )
    page = text(response)
    assert (
        "Le fichier « programme.pdf » dépasse la taille maximale de 10 Mo : "
        "le message n'est pas envoyé." in page
    )
    assert "Le programme complet.</textarea>" in page
    assert not Message.objects.exists()
    assert stored(private_root) == []
    assert mailoutbox == []

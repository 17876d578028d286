"""A dossier's archive: every file it has, stored files unchanged, generated documents read
back, a manifest whose SHA-256 values are those of the bytes in the ZIP and, for the
frozen acts, those the platform stored; streamed, for the Service IVE only."""

import csv
import hashlib
import io
import os
import zipfile

import pytest
from django.urls import reverse

from candidatures.models import Candidature
from conventions.models import Report
from evaluation.models import CommitteeRecord, NotificationLetter
from tests.archives.conftest import ORGANISATION, submitted
from tests.factories import OrganisationFactory, dossier_ready_call
from tests.pdf import pdf_text

MANIFEST = "manifest.csv"


def download(client, dossier) -> tuple[object, zipfile.ZipFile]:
    response = client.get(reverse("archives:dossier", args=[dossier.pk]))
    assert response.status_code == 200
    assert response.streaming  # never built whole in the response
    return response, zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def read_csv(archive: zipfile.ZipFile, name: str) -> list[dict]:
    text = archive.read(name).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text), delimiter=";"))


def stored(field) -> bytes:
    with field.open("rb") as handle:
        return handle.read()


def test_a_dossier_archive_holds_every_file_with_a_manifest_that_matches(
    world, client_for, instructeur, ddets_reader
):
    staff_page = reverse("candidatures:staff_dossier", args=[world.dossier.pk])
    assert client_for(ddets_reader).get(staff_page).status_code == 200  # a reading, logged
    response, archive = download(client_for(instructeur), world.dossier)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert archive.testzip() is None
    names = archive.namelist()

    # Every uploaded file, as uploaded, in its piece's folder; the same name twice is kept twice.
    dossier = world.dossier
    pieces = [name for name in names if name.startswith("pieces/")]
    assert sorted(pieces) == [
        "pieces/Budgets prévisionnels/structure (2).xlsx",
        "pieces/Budgets prévisionnels/structure.xlsx",
        "pieces/Dossier de demande de financement/dossier.pdf",
    ]
    stored_pieces = sorted(stored(d.file) for d in dossier.documents.all())
    assert sorted(archive.read(name) for name in pieces) == stored_pieces

    # Frozen acts: the stored file, byte for byte.
    letter = NotificationLetter.objects.get(candidature=dossier)
    record = CommitteeRecord.objects.get(call=world.call)
    convention, amendment = world.convention, world.amendment
    convention.refresh_from_db()
    report = Report.objects.exclude(file="").get(convention=convention)
    number = convention.number
    frozen = {
        f"decisions/Notification-{world.call.reference}.pdf": (letter.pdf, letter.sha256),
        f"conventions/{number}/Convention-{number}-envoyee.pdf": (
            convention.document,
            convention.document_sha256,
        ),
        f"conventions/{number}/avenants/{number}-avenant-1.pdf": (
            amendment.document,
            amendment.document_sha256,
        ),
        f"conventions/{number}/bilans/Bilan intermédiaire-intermediate.pdf": (
            report.file,
            report.sha256,
        ),
    }
    message = dossier.messages.exclude(attachment="").get()
    frozen["historique/fichiers-des-messages/CV chargée.pdf"] = (
        message.attachment,
        message.attachment_sha256,
    )
    committee_name = next(name for name in names if name.startswith("decisions/PV-comite-"))
    frozen[committee_name] = (record.pdf, record.sha256)
    for name, (field, sha256) in frozen.items():
        content = archive.read(name)
        assert content == stored(field), name
        assert hashlib.sha256(content).hexdigest() == sha256, name
    for name in (
        f"conventions/{number}/Convention-{number}-signee-convention-signee.pdf",
        f"conventions/{number}/avenants/Avenant-1-signe-avenant-signe.pdf",
    ):
        assert name in names

    # The manifest lists every other file, with the SHA-256 of its bytes in the ZIP and,
    # where the platform stored one, that hash too, which matches.
    manifest = read_csv(archive, MANIFEST)
    assert names[-1] == MANIFEST
    assert [row["Chemin"] for row in manifest] == names[:-1]
    for row in manifest:
        content = archive.read(row["Chemin"])
        assert int(row["Taille (octets)"]) == len(content)
        assert row["SHA-256"] == hashlib.sha256(content).hexdigest()
        assert row["Contenu"]
    by_path = {row["Chemin"]: row for row in manifest}
    for name, (_field, sha256) in frozen.items():
        assert by_path[name]["SHA-256 enregistré par la plateforme"] == sha256
        assert by_path[name]["SHA-256"] == sha256
        assert by_path[name]["Concordance"] == "oui"
    for document in dossier.documents.all():
        assert document.sha256 in {row["SHA-256 enregistré par la plateforme"] for row in manifest}

    # The receipt, the answers and the history, read back.
    receipt = dossier.receipts.get()
    receipt_text = pdf_text(archive.read(f"accuses/Accuse-de-reception-{receipt.number}.pdf"))
    assert receipt.number in receipt_text and ORGANISATION in receipt_text
    answers = pdf_text(archive.read("reponses/Reponses-du-dossier.pdf"))
    assert "Co-animer le réseau des facilitateurs." in answers
    assert "25 000,00 €" in answers and ORGANISATION in answers
    history = read_csv(archive, "historique/historique.csv")
    actions = [(row["Objet"], row["Action"]) for row in history]
    assert ("Dossier", "Déposer") in actions
    assert ("Recevabilité", "Recevable") in actions
    assert ("Notification de la décision", "Lettre envoyée") in actions
    assert (f"Convention {number}", "Enregistrer la signature") in actions
    assert "Enregistrer le versement" in {row["Action"] for row in history}
    assert all(row["Date"] == "6 décembre 2026 à 10h00" for row in history[1:])
    assert "Historique du dossier" in pdf_text(archive.read("historique/historique.pdf"))

    # Admissibility, evaluations, ranking row, decisions, payments, reports.
    [admissibility] = read_csv(archive, "instruction/recevabilite.csv")
    assert admissibility["Recevabilité"] == "Recevable"
    [evaluation] = read_csv(archive, "instruction/evaluations.csv")
    assert evaluation["Évaluateur"] == "Étienne Valuateur <etienne@isere.test>"
    assert evaluation["Total (/100)"] == "75,0000"
    [ranking] = read_csv(archive, "instruction/classement.csv")
    assert (ranking["Lot"], ranking["Rang"], ranking["Structure"]) == ("Lot 1", "1", ORGANISATION)
    assert ranking["Décision"] == "Retenu" and ranking["Note retenue (/100)"] == "75,00"
    [decision] = read_csv(archive, "decisions/decisions.csv")
    assert (decision["Décision"], decision["Montant attribué (€)"]) == ("Retenu", "24500,00")
    payments = read_csv(archive, f"conventions/{number}/versements.csv")
    paid = [row for row in payments if row["Statut"] == "Versé"]
    assert [row["Référence comptable (mandat)"] for row in paid] == ["MANDAT-2027-0001"]
    [amendment_row] = read_csv(archive, f"conventions/{number}/avenants/avenants.csv")
    assert amendment_row["SHA-256 de l'avenant envoyé"] == amendment.document_sha256
    [posted] = read_csv(archive, "historique/messages.csv")
    assert (posted["Message"], posted["Fichier joint"]) == (
        "Voici le CV de la chargée de mission.",
        "CV chargée.pdf",
    )
    [reading] = read_csv(archive, "historique/consultations-ddets.csv")
    assert reading["Lecteur DDETS"].endswith("<denis@ddets.test>")
    assert f"conventions/{number}/points-d-etape.csv" in names
    assert f"conventions/{number}/indicateurs.csv" in names
    reports = read_csv(archive, f"conventions/{number}/bilans/bilans.csv")
    assert {"Validé"} <= {row["Statut"] for row in reports}


def test_a_stored_file_changed_behind_the_platform_shows_in_the_manifest(
    world, client_for, instructeur
):
    """The manifest hashes what the ZIP holds: a stored file that no longer matches its
    recorded SHA-256 says so (« NON ») instead of passing for the original."""
    letter = NotificationLetter.objects.get(candidature=world.dossier)
    with open(letter.pdf.path, "ab") as handle:
        handle.write(b"%% altered")
    _response, archive = download(client_for(instructeur), world.dossier)
    row = next(
        row for row in read_csv(archive, MANIFEST) if row["Chemin"].startswith("decisions/Notif")
    )
    assert row["SHA-256 enregistré par la plateforme"] == letter.sha256
    assert row["SHA-256"] != letter.sha256 and row["Concordance"] == "NON"


@pytest.fixture
def dossier(candidate):
    organisation = OrganisationFactory(name="GIP Sud Isère", members=[candidate])
    return submitted(dossier_ready_call(), organisation, candidate)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", 302),
        ("candidate", 403),  # a member of the organisation: its own dossier still refused
        ("other_candidate", 403),
        ("evaluator", 403),
        ("ddets_reader", 403),
        ("instructeur", 200),
        ("admin_user", 200),
    ],
)
def test_only_the_service_ive_takes_a_dossier_archive(
    request, dossier, client_for, persona, expected
):
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    response = client_for(user).get(reverse("archives:dossier", args=[dossier.pk]))
    assert response.status_code == expected
    if expected == 200:
        archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
        assert "pieces/Dossier de demande de financement/dossier.pdf" in archive.namelist()
    else:
        assert not getattr(response, "streaming", False)
        assert b"dossier.pdf" not in response.content


def test_an_unknown_dossier_is_not_found(client_for, instructeur, dossier):
    missing = Candidature.objects.order_by("-pk").first().pk + 1
    response = client_for(instructeur).get(reverse("archives:dossier", args=[missing]))
    assert response.status_code == 404


def test_the_staff_dossier_page_offers_the_archive_to_instructeurs_only(
    client_for, instructeur, ddets_reader, dossier
):
    url = reverse("archives:dossier", args=[dossier.pk])
    page = client_for(instructeur).get(reverse("candidatures:staff_dossier", args=[dossier.pk]))
    assert url in page.content.decode()
    page = client_for(ddets_reader).get(reverse("candidatures:staff_dossier", args=[dossier.pk]))
    assert page.status_code == 200 and url not in page.content.decode()


def test_a_dossier_whose_stored_file_is_gone_is_not_streamed_half_way(
    client_for, instructeur, dossier
):
    """Checked before the first byte: a ZIP cut in the middle would pass for a whole one
    until opened; staff read why instead."""
    document = dossier.documents.get(original_name="dossier.pdf")
    os.unlink(document.file.path)
    client = client_for(instructeur)
    response = client.get(reverse("archives:dossier", args=[dossier.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("candidatures:staff_dossier", args=[dossier.pk])
    page = client.get(response["Location"]).content.decode()
    assert "des fichiers enregistrés sont introuvables" in page and "dossier.pdf" in page


def test_a_generated_dossier_de_demande_is_archived_beside_its_receipt(
    candidate, client_for, instructeur
):
    organisation = OrganisationFactory(name="CC du Trièves", members=[candidate])
    dossier = submitted(dossier_ready_call(funding_request_generated=True), organisation, candidate)
    receipt = dossier.receipts.get()
    _response, archive = download(client_for(instructeur), dossier)
    name = f"accuses/Dossier-de-demande-{receipt.number}.pdf"
    text = " ".join(pdf_text(archive.read(name)).split())
    assert "Dossier de demande de financement" in text
    assert "Co-animer le réseau des facilitateurs." in text
    row = next(row for row in read_csv(archive, MANIFEST) if row["Chemin"] == name)
    assert row["SHA-256"] == hashlib.sha256(archive.read(name)).hexdigest()
    assert row["Contenu"].startswith("Dossier de demande de financement, accusé n°")

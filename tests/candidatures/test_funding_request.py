"""One entry, one official document: the dossier de demande de financement rendered from
the answers of a submission, read back with pdftotext."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from aap.models import Question
from candidatures import services
from candidatures.models import Candidature
from tests.candidatures.conftest import fill
from tests.factories import OrganisationFactory, as_draft, dossier_ready_call
from tests.pdf import pdf_text

pytestmark = pytest.mark.django_db


def _words(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture
def generating_call():
    call = dossier_ready_call(funding_request_generated=True)
    with as_draft(call):
        Question.objects.create(
            call=call,
            position=5,
            section="Moyens",
            label="La structure porte-t-elle déjà des missions de facilitateur ?",
            kind="yes_no",
            required=False,
        )
    return call


@pytest.fixture
def submitted(generating_call, candidate, django_capture_on_commit_callbacks):
    organisation = OrganisationFactory(
        name="Communauté de communes du Trièves", members=[candidate]
    )
    dossier = Candidature.objects.create(
        call=generating_call, organisation=organisation, created_by=candidate
    )
    fill(dossier, candidate)
    question = generating_call.form_questions.get(label__startswith="La structure porte")
    services.save_answers(dossier, by=candidate, values={question.pk: True})
    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.submit_candidature(
            dossier, by=candidate, received_at=timezone.now(), certified=True
        )
    return dossier, receipt


def _download(client, dossier, receipt, *, staff=False):
    name = "candidatures:staff_funding_request" if staff else "candidatures:funding_request"
    response = client.get(reverse(name, args=[dossier.pk, receipt.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return response.content


def test_every_answer_is_in_the_pdf_in_the_order_of_the_form(submitted, client_for, candidate):
    dossier, receipt = submitted
    text = _words(pdf_text(_download(client_for(candidate), dossier, receipt)))
    assert "Dossier de demande de financement" in text
    assert "Communauté de communes du Trièves" in text
    assert dossier.organisation.siret in text
    assert f"N° {receipt.number}" in text
    expected = [
        ("Lots sollicités", "Lot 1"),
        ("Résumé du projet", "Co-animer le réseau des facilitateurs."),
        ("Montant sollicité", "25 000,00 €"),
        ("Cofinancements", "Sans réponse."),
        ("La structure porte-t-elle déjà des missions de facilitateur ?", "Oui"),
    ]
    position = 0
    for label, answer in expected:
        found = text.index(label, position)
        assert text.index(answer, found) > found, label
        position = found
    # The financing table and the pieces, after the answers.
    assert text.index("Plan de financement demandé") > position
    assert "Montant sollicité 25 000,00 €" in text
    assert "Pièces jointes au dossier" in text and "dossier.pdf" in text


def test_the_receipt_e_mail_carries_the_dossier_de_demande(submitted):
    _dossier, receipt = submitted
    (message,) = [m for m in mail.outbox if receipt.number in m.subject or m.attachments]
    names = [name for name, _content, _type in message.attachments]
    assert names == [
        f"Accuse-de-reception-{receipt.number}.pdf",
        f"Dossier-de-demande-{receipt.number}.pdf",
    ]
    content = {name: body for name, body, _type in message.attachments}
    assert "Résumé du projet" in pdf_text(content[names[1]])


def test_the_pdf_keeps_what_was_submitted_after_a_withdrawal(
    submitted, client_for, candidate, django_capture_on_commit_callbacks
):
    dossier, first = submitted
    services.withdraw_candidature(dossier, by=candidate, received_at=timezone.now())
    summary = dossier.call.form_questions.get(label="Résumé du projet")
    services.save_answers(dossier, by=candidate, values={summary.pk: "Un projet réécrit."})
    with django_capture_on_commit_callbacks(execute=True):
        second = services.submit_candidature(
            dossier, by=candidate, received_at=timezone.now(), certified=True
        )
    client = client_for(candidate)
    assert "Co-animer le réseau" in pdf_text(_download(client, dossier, first))
    assert "Un projet réécrit." in pdf_text(_download(client, dossier, second))


def test_a_call_without_it_offers_no_dossier_de_demande(
    candidate, client_for, django_capture_on_commit_callbacks
):
    call = dossier_ready_call()
    organisation = OrganisationFactory(members=[candidate])
    dossier = Candidature.objects.create(call=call, organisation=organisation, created_by=candidate)
    fill(dossier, candidate)
    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.submit_candidature(
            dossier, by=candidate, received_at=timezone.now(), certified=True
        )
    response = client_for(candidate).get(
        reverse("candidatures:funding_request", args=[dossier.pk, receipt.pk])
    )
    assert response.status_code == 404
    (message,) = [m for m in mail.outbox if m.attachments]
    assert len(message.attachments) == 1  # the receipt alone


def test_staff_read_it_and_the_ddets_reading_is_logged(
    submitted, client_for, instructeur, ddets_reader, other_candidate
):
    from candidatures.models import Reading

    dossier, receipt = submitted
    assert "Résumé du projet" in pdf_text(
        _download(client_for(instructeur), dossier, receipt, staff=True)
    )
    _download(client_for(ddets_reader), dossier, receipt, staff=True)
    assert Reading.objects.filter(candidature=dossier, reader=ddets_reader).exists()
    outsider = client_for(other_candidate).get(
        reverse("candidatures:funding_request", args=[dossier.pk, receipt.pk])
    )
    assert outsider.status_code == 404

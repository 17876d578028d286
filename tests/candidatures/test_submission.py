"""Submitting a dossier: once, on time, complete, and proven by a receipt."""

import datetime as dt
import hashlib
import threading

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidatures import services
from candidatures.models import Answer, Candidature, CandidatureLocked, Document, Receipt
from candidatures.receipts import receipt_pdf
from candidatures.states import CandidatureStatus
from core.exceptions import DomainError
from tests.candidatures.conftest import PDF, fill, pdf_file
from tests.factories import set_deadline
from tests.pdf import pdf_text


def test_a_complete_dossier_is_submitted_with_a_numbered_receipt(complete_dossier, candidate):
    when = timezone.now()
    receipt = services.submit_candidature(
        complete_dossier, by=candidate, received_at=when, certified=True
    )
    complete_dossier.refresh_from_db()
    assert complete_dossier.status == CandidatureStatus.SUBMITTED
    assert complete_dossier.submitted_at == when
    assert receipt.number == f"{complete_dossier.call.reference}-0001"
    assert receipt.manifest["documents"] == [
        {
            "piece": "Dossier de demande de financement",
            "name": "dossier.pdf",
            "size": len(PDF),
            "sha256": hashlib.sha256(PDF).hexdigest(),
        }
    ]
    assert complete_dossier.status_changes.get().to_status == CandidatureStatus.SUBMITTED


def test_receipt_numbers_follow_each_other_per_call(call, candidate, other_candidate, dossier):
    from tests.factories import OrganisationFactory

    other = Candidature.objects.create(
        call=call, organisation=OrganisationFactory(members=[other_candidate])
    )
    fill(dossier, candidate)
    fill(other, other_candidate)
    first = services.submit_candidature(
        dossier, by=candidate, received_at=timezone.now(), certified=True
    )
    second = services.submit_candidature(
        other, by=other_candidate, received_at=timezone.now(), certified=True
    )
    assert [first.sequence, second.sequence] == [1, 2]
    assert second.number.endswith("-0002")


def test_the_receipt_pdf_carries_the_hashes_and_the_second(complete_dossier, candidate):
    when = timezone.make_aware(dt.datetime(2030, 3, 1, 16, 59, 58))
    with time_machine.travel(when - dt.timedelta(days=1), tick=False):
        set_deadline(complete_dossier.call, when + dt.timedelta(minutes=1))
    with time_machine.travel(when, tick=False):
        receipt = services.submit_candidature(
            complete_dossier, by=candidate, received_at=when, certified=True
        )
        text = pdf_text(receipt_pdf(receipt.pk))
    assert receipt.number in text
    assert "1 mars 2030 à 16h59 et 58 s" in text
    assert hashlib.sha256(PDF).hexdigest() in text.replace(" ", "")
    assert complete_dossier.organisation.siret in text
    assert "Lot 1" in text
    assert f"/r/{receipt.token}/" in text
    # Rendered once, then served from storage, byte for byte.
    assert receipt_pdf(receipt.pk) == receipt_pdf(receipt.pk)


def test_submitting_one_second_after_the_deadline_is_refused(complete_dossier, candidate):
    deadline = complete_dossier.call.deadline.replace(microsecond=0)
    set_deadline(complete_dossier.call, deadline)
    late = deadline + dt.timedelta(seconds=1)
    with time_machine.travel(late, tick=False), pytest.raises(DomainError, match="est passée"):
        services.submit_candidature(
            complete_dossier, by=candidate, received_at=late, certified=True
        )
    complete_dossier.refresh_from_db()
    assert complete_dossier.status == CandidatureStatus.DRAFT
    assert not Receipt.objects.exists()


def test_submitting_at_the_deadline_second_is_accepted(complete_dossier, candidate):
    deadline = complete_dossier.call.deadline.replace(microsecond=0)
    set_deadline(complete_dossier.call, deadline)
    at = deadline + dt.timedelta(microseconds=900_000)
    with time_machine.travel(at, tick=False):
        services.submit_candidature(complete_dossier, by=candidate, received_at=at, certified=True)
    complete_dossier.refresh_from_db()
    assert complete_dossier.status == CandidatureStatus.SUBMITTED


def test_the_deadline_is_judged_when_the_request_arrives(complete_dossier, candidate, client):
    """A request received before the deadline is on time even if the work ends after it."""
    deadline = (timezone.now() + dt.timedelta(minutes=10)).replace(microsecond=0)
    set_deadline(complete_dossier.call, deadline)
    client.force_login(candidate)
    url = reverse("candidatures:submit", args=[complete_dossier.pk])
    with time_machine.travel(deadline + dt.timedelta(seconds=1), tick=False):
        response = client.post(url, {"certified": "on"})
    assert response.status_code == 409
    assert "est passée" in response.content.decode()
    with time_machine.travel(deadline - dt.timedelta(seconds=1), tick=False):
        response = client.post(url, {"certified": "on"})
    assert response.status_code == 200
    receipt = Receipt.objects.get()
    # The answer itself carries the proof, not a page behind a redirect.
    assert f"Accusé de réception n° {receipt.number}" in response.content.decode()


def test_an_incomplete_dossier_is_refused_with_the_list_of_gaps(dossier, candidate, client):
    fill(dossier, candidate, with_file=False)
    client.force_login(candidate)
    response = client.post(reverse("candidatures:submit", args=[dossier.pk]), {"certified": "on"})
    page = response.content.decode()
    assert response.status_code == 409
    assert "Le dossier est incomplet" in page
    assert "Pièce manquante : Dossier de demande de financement" in page
    dossier.refresh_from_db()
    assert dossier.status == CandidatureStatus.DRAFT


def test_the_deposit_reads_none_of_the_page_extras(complete_dossier, candidate, client):
    """At the deadline every deposit counts: it reads the dossier's row and what it checks,
    never the messages, history or piece requests the confirmation page shows; a refused
    deposit shows that page again whole."""
    client.force_login(candidate)
    url = reverse("candidatures:submit", args=[complete_dossier.pk])
    page_extras = ("candidatures_message", "candidatures_candidaturestatuschange")
    with CaptureQueriesContext(connection) as shown:
        assert client.get(url).status_code == 200
    assert all(any(table in q["sql"] for q in shown.captured_queries) for table in page_extras)

    with CaptureQueriesContext(connection) as deposit:
        response = client.post(url, {"certified": "on"})

    assert response.status_code == 200
    assert "Accusé de réception n°" in response.content.decode()
    read = [q["sql"] for q in deposit.captured_queries if q["sql"].startswith("SELECT")]
    assert not [sql for sql in read if any(table in sql for table in page_extras)]


def test_submission_needs_the_certification_box(complete_dossier, candidate, client):
    client.force_login(candidate)
    response = client.post(reverse("candidatures:submit", args=[complete_dossier.pk]), {})
    assert response.status_code == 400
    assert "Cochez la case de certification" in response.content.decode()
    assert not Receipt.objects.exists()


def test_a_second_submit_finds_the_dossier_submitted(complete_dossier, candidate, client):
    client.force_login(candidate)
    url = reverse("candidatures:submit", args=[complete_dossier.pk])
    client.post(url, {"certified": "on"})
    response = client.post(url, {"certified": "on"}, follow=True)
    assert "Ce dossier est déjà déposé." in response.content.decode()
    assert Receipt.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_submits_make_one_receipt(candidate):
    from tests.factories import OrganisationFactory, dossier_ready_call

    call = dossier_ready_call()
    dossier = Candidature.objects.create(
        call=call, organisation=OrganisationFactory(members=[candidate])
    )
    fill(dossier, candidate)
    barrier = threading.Barrier(2)
    outcomes = []

    def submit():
        try:
            barrier.wait()
            services.submit_candidature(
                Candidature.objects.get(pk=dossier.pk),
                by=candidate,
                received_at=timezone.now(),
                certified=True,
            )
            outcomes.append("submitted")
        except services.AlreadySubmitted:
            outcomes.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["already", "submitted"]
    assert Receipt.objects.filter(candidature=dossier).count() == 1


def test_nothing_changes_after_submission(complete_dossier, candidate, client):
    services.submit_candidature(
        complete_dossier, by=candidate, received_at=timezone.now(), certified=True
    )
    client.force_login(candidate)
    answers_before = list(Answer.objects.values_list("pk", "value"))
    document = Document.objects.get()
    question = complete_dossier.call.form_questions.get(label="Résumé du projet")
    responses = [
        client.post(
            reverse("candidatures:answers", args=[complete_dossier.pk]),
            {f"q{question.pk}": "Autre chose"},
        ),
        client.post(
            reverse(
                "candidatures:upload", args=[complete_dossier.pk, document.required_document_id]
            ),
            {"file": pdf_file("autre.pdf")},
        ),
        client.post(
            reverse("candidatures:delete_document", args=[complete_dossier.pk, document.pk])
        ),
    ]
    assert responses[0].status_code == 409
    assert all(
        "ne peut plus être modifié" in r.content.decode() or r.status_code == 302 for r in responses
    )
    assert list(Answer.objects.values_list("pk", "value")) == answers_before
    assert list(Document.objects.values_list("pk", flat=True)) == [document.pk]
    # The model layer refuses too, whatever the caller.
    answer = Answer.objects.first()
    answer.value = "changé"
    with pytest.raises(CandidatureLocked):
        answer.save()
    with pytest.raises(CandidatureLocked):
        document.delete()
    assert Document.objects.filter(pk=document.pk).exists()


def test_withdraw_and_resubmit_supersede_the_first_receipt(complete_dossier, candidate):
    first = services.submit_candidature(
        complete_dossier, by=candidate, received_at=timezone.now(), certified=True
    )
    services.withdraw_candidature(
        complete_dossier, by=candidate, received_at=timezone.now(), note="Correction"
    )
    complete_dossier.refresh_from_db()
    assert complete_dossier.status == CandidatureStatus.DRAFT
    first.refresh_from_db()
    assert first.superseded_at is not None
    services.add_document(
        complete_dossier,
        complete_dossier.call.required_documents.get(mandatory=True),
        by=candidate,
        uploaded=pdf_file("dossier-corrige.pdf"),
    )
    second = services.submit_candidature(
        complete_dossier, by=candidate, received_at=timezone.now(), certified=True
    )
    assert second.sequence == 2
    assert second.manifest["documents"][0]["name"] == "dossier-corrige.pdf"
    assert list(complete_dossier.status_changes.values_list("action", flat=True)) == [
        "submit",
        "withdraw",
        "submit",
    ]


def test_withdrawing_after_the_deadline_is_refused(complete_dossier, candidate):
    services.submit_candidature(
        complete_dossier, by=candidate, received_at=timezone.now(), certified=True
    )
    late = complete_dossier.call.deadline + dt.timedelta(seconds=1)
    with pytest.raises(DomainError, match="ne peut plus être retiré"):
        services.withdraw_candidature(complete_dossier, by=candidate, received_at=late)
    complete_dossier.refresh_from_db()
    assert complete_dossier.status == CandidatureStatus.SUBMITTED


def test_the_receipt_email_goes_out_after_commit_with_the_pdf(
    complete_dossier, candidate, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        receipt = services.submit_candidature(
            complete_dossier, by=candidate, received_at=timezone.now(), certified=True
        )
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [candidate.email]
    assert receipt.number in message.subject
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == (f"Accuse-de-reception-{receipt.number}.pdf", "application/pdf")
    assert receipt.number in pdf_text(content)
    url = f"http://testserver{reverse('candidatures:dossier', args=[complete_dossier.pk])}"
    assert url in message.body
    assert url in message.alternatives[0][0]


def test_submission_succeeds_when_the_broker_is_down(
    complete_dossier, candidate, client, django_capture_on_commit_callbacks, mailoutbox
):
    from core.models import EmailStatus, OutgoingEmail
    from tests.celery_utils import broker_url, eager

    client.force_login(candidate)
    started = timezone.now()
    with (
        eager(False),
        broker_url("redis://127.0.0.1:1/0"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            reverse("candidatures:submit", args=[complete_dossier.pk]), {"certified": "on"}
        )
    assert response.status_code == 200
    assert (timezone.now() - started).total_seconds() < 10
    complete_dossier.refresh_from_db()
    assert complete_dossier.status == CandidatureStatus.SUBMITTED
    email = OutgoingEmail.objects.get(key__startswith="receipt-")
    assert email.status == EmailStatus.PENDING
    assert mailoutbox == []


def test_the_organisation_name_never_makes_the_pdf_read_a_file(complete_dossier, candidate):
    organisation = complete_dossier.organisation
    organisation.name = (
        '<img src="file:///etc/passwd"><style>@import url(file:///etc/passwd)</style>'
    )
    organisation.save()
    receipt = services.submit_candidature(
        complete_dossier, by=candidate, received_at=timezone.now(), certified=True
    )
    content = receipt_pdf(receipt.pk)
    assert b"root:x:0:0" not in content
    assert '<img src="file:///etc/passwd">' in pdf_text(content)


def test_a_request_received_in_time_is_accepted_even_if_the_closing_ran_meanwhile(
    complete_dossier, candidate
):
    from aap.services import close_calls_past_deadline

    deadline = complete_dossier.call.deadline.replace(microsecond=0)
    set_deadline(complete_dossier.call, deadline)
    received = deadline - dt.timedelta(seconds=1)
    with time_machine.travel(deadline + dt.timedelta(seconds=5), tick=False):
        assert close_calls_past_deadline() == 1  # the sweep ran while the request was handled
        services.submit_candidature(
            complete_dossier, by=candidate, received_at=received, certified=True
        )
    complete_dossier.refresh_from_db()
    assert complete_dossier.submitted_at == received

"""What the organisation hears about its agreement, each message once, to its members
only, in text and HTML with the link to its page: sent for signature, signed, an avenant
sent and signed, a payment ordered and paid, a report accepted or sent back (with the
reason)."""

import pytest
from django.urls import reverse

from conventions import services
from conventions.states import ReportKind
from tests.conventions.conftest import TODAY, accept, pdf_upload, sign
from tests.factories import UserFactory


@pytest.fixture
def members(candidate, organisation):
    """Both active members hear, a former (inactive) one does not."""
    colleague = UserFactory(email="colleague@epci-exemple.test", roles=["candidat"])
    gone = UserFactory(email="gone@epci-exemple.test", roles=["candidat"], is_active=False)
    for user in (colleague, gone):
        organisation.memberships.create(user=user)
    return sorted([candidate.email, colleague.email])


def sent_to(mailoutbox, words):
    found = [m for m in mailoutbox if words in m.subject]
    assert len(found) == 1, [m.subject for m in mailoutbox]
    return found[0]


def check(message, members, convention, *texts):
    assert sorted(message.to) == members
    html = message.alternatives[0][0]
    url = reverse("conventions:my_convention", args=[convention.pk])
    assert url in message.body and url in html
    for text in texts:
        assert text in message.body, message.body
        assert text in html.replace("&#x27;", "'").replace("&quot;", '"'), html


def test_the_organisation_hears_of_sending_signature_and_payments(
    convention, instructeur, candidate, members, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sign(convention, instructeur, start=True)
        advance = convention.payments.get(label="Avance à la signature")
        services.move_payment(advance, "request", by=instructeur, on=TODAY)
        services.move_payment(advance, "order", by=instructeur, on=TODAY, reference="M-77")
        services.move_payment(advance, "pay", by=instructeur, on=TODAY)
    convention.refresh_from_db()
    check(sent_to(mailoutbox, "à signer"), members, convention, convention.document_sha256)
    check(sent_to(mailoutbox, "signée"), members, convention, "le 6 décembre 2026")
    check(
        sent_to(mailoutbox, "Versement mandaté"),
        members,
        convention,
        "12\xa0250,00 €",
        "mandat M-77",
    )
    check(sent_to(mailoutbox, "Versement effectué"), members, convention, "versé le 6 décembre")
    # A request is an internal step: no message for it; one message per event.
    assert len(mailoutbox) == 4


def test_the_organisation_hears_of_its_reports_reviewed(
    signed, instructeur, candidate, members, mailoutbox, django_capture_on_commit_callbacks
):
    report = signed.reports.get(kind=ReportKind.INTERMEDIATE)
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_report(report, by=candidate, uploaded=pdf_upload("bilan.pdf"))
        services.send_back_report(
            report, by=instructeur, reason="Les heures d'insertion ne sont pas chiffrées."
        )
        services.submit_report(report, by=candidate, uploaded=pdf_upload("bilan-v2.pdf"))
        services.send_back_report(report, by=instructeur, reason="Toujours pas chiffrées.")
    back = [m for m in mailoutbox if "renvoyé" in m.subject]
    assert len(back) == 2  # each sending back is its own message
    check(back[0], members, signed, "Les heures d'insertion ne sont pas chiffrées.")
    check(back[1], members, signed, "Toujours pas chiffrées.")
    with django_capture_on_commit_callbacks(execute=True):
        accept(signed, ReportKind.FINAL, candidate, instructeur)
    check(sent_to(mailoutbox, "Bilan final validé"), members, signed, "Bilan final")


def test_the_organisation_hears_of_its_avenants(
    signed, instructeur, members, mailoutbox, django_capture_on_commit_callbacks
):
    amendment = services.prepare_amendment(signed, by=instructeur)
    services.update_amendment(
        amendment,
        by=instructeur,
        changes="Prolongation",
        amount_after=signed.amount,
        period_end_after=signed.period_end.replace(year=2028, month=3, day=31),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.send_amendment(amendment, by=instructeur)
        services.record_amendment_signature(
            amendment, by=instructeur, signed_on=TODAY, uploaded=pdf_upload()
        )
    check(sent_to(mailoutbox, " : à signer"), members, signed, "à signer")
    check(sent_to(mailoutbox, "signé"), members, signed, "Avenant n° 1", "6 décembre 2026")

"""From « sent for signature » on, an agreement is an act that has left: its PDF is
rendered once and stored with its SHA-256, the organisation downloads exactly that file,
and nothing changes its content through the services, the pages, the admin or the model
layer (a shell) but a signed avenant."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.urls import reverse

from aap.models import Call
from conventions import services
from conventions.models import ContentLocked, Convention, Payment, Report
from conventions.states import ConventionStatus, PaymentCondition, ReportKind
from core.exceptions import DomainError
from tests.conventions.conftest import pdf_upload, sign
from tests.pdf import pdf_text


def stored_bytes(convention) -> bytes:
    with convention.document.open("rb") as handle:
        return handle.read()


def download(client, name, convention) -> bytes:
    response = client.get(reverse(f"conventions:{name}", args=[convention.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.fixture
def sent(convention, instructeur):
    return services.send_for_signature(convention, by=instructeur)


def test_sending_stores_the_pdf_once_with_its_sha256(
    sent, instructeur, candidate, client_for, mailoutbox, django_capture_on_commit_callbacks
):
    content = stored_bytes(sent)
    assert sent.document_sha256 == hashlib.sha256(content).hexdigest()
    text = pdf_text(content, order="reading")
    assert "Version envoyée pour signature le 6 décembre 2026 à 10h00" in text
    assert "PROJET" not in text
    assert download(client_for(instructeur), "pdf", sent) == content
    assert download(client_for(candidate), "my_pdf", sent) == content
    page = client_for(candidate).get(reverse("conventions:my_convention", args=[sent.pk]))
    assert sent.document_sha256 in page.content.decode()


def test_later_edits_of_live_data_never_change_the_sent_pdf(
    sent, instructeur, candidate, client_for
):
    sha256, content = sent.document_sha256, stored_bytes(sent)
    call, organisation = sent.call, sent.organisation
    Call.objects.filter(pk=call.pk).update(title="Intitulé corrigé après l'envoi")
    organisation.name = "Nouveau nom de la structure"
    organisation.save()
    sent.call.indicators.create(label="Indicateur ajouté après l'envoi", target=Decimal(1))
    sent.refresh_from_db()
    assert sent.document_sha256 == sha256
    for user, name in ((instructeur, "pdf"), (candidate, "my_pdf")):
        again = download(client_for(user), name, sent)
        assert again == content
        assert hashlib.sha256(again).hexdigest() == sha256
    text = pdf_text(content, order="reading")
    assert "Intitulé corrigé" not in text and "Nouveau nom" not in text
    # Signed then running: still the same file.
    services.record_signature(
        sent, by=instructeur, signed_on=dt.date(2026, 12, 6), uploaded=pdf_upload()
    )
    services.start_convention(sent, by=instructeur)
    sent.refresh_from_db()
    assert sent.document_sha256 == sha256 and stored_bytes(sent) == content


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", Decimal("30000")),
        ("period_start", dt.date(2027, 2, 1)),
        ("period_end", dt.date(2028, 6, 30)),
        ("fte", Decimal("1")),
        ("object", "Un autre objet"),
        ("payment_terms", "Autres modalités"),
        ("obligations", "Autres obligations"),
        ("subsidy_share", Decimal("0.5")),
        ("beneficiary_name", "Autre bénéficiaire"),
    ],
)
def test_the_model_layer_refuses_any_change_of_a_sent_agreement(sent, field, value):
    row = Convention.objects.get(pk=sent.pk)
    setattr(row, field, value)
    with pytest.raises(ContentLocked, match="envoyée pour signature"):
        row.save()
    assert getattr(Convention.objects.get(pk=sent.pk), field) == getattr(sent, field)


def test_the_model_layer_refuses_schedule_and_report_changes_once_sent(convention, instructeur):
    sign(convention, instructeur, start=True)
    balance = convention.payments.get(label="Solde")
    balance.amount = Decimal("10000")
    with pytest.raises(ContentLocked):
        balance.save()
    balance.refresh_from_db()
    balance.condition = PaymentCondition.SIGNATURE
    with pytest.raises(ContentLocked):
        balance.save()
    with pytest.raises(ContentLocked):
        Payment.objects.get(pk=balance.pk).delete()
    with pytest.raises(ContentLocked):
        Payment.objects.create(
            convention=convention, label="Ajout", due_on=dt.date(2027, 6, 1), amount=1
        )
    report = convention.reports.get(kind=ReportKind.FINAL)
    report.due_on = dt.date(2028, 6, 30)
    with pytest.raises(ContentLocked):
        report.save()
    with pytest.raises(ContentLocked):
        Report.objects.create(
            convention=convention, kind=ReportKind.INTERMEDIATE, due_on=dt.date(2027, 3, 1)
        )
    with pytest.raises(ContentLocked):
        Convention.objects.get(pk=convention.pk).delete()
    assert list(convention.payments.values_list("label", "amount")) == [
        ("Avance à la signature", Decimal("12250.00")),
        ("Solde", Decimal("12250.00")),
    ]
    # Status moves, as the workflow writes them, still pass.
    services.move_payment(
        convention.payments.get(label="Avance à la signature"),
        "request",
        by=instructeur,
        on=dt.date(2026, 12, 6),
    )


def test_the_services_refuse_schedule_changes_of_a_signed_agreement(signed, instructeur):
    balance = signed.payments.get(label="Solde")
    with pytest.raises(DomainError, match="ne change que par un avenant signé"):
        services.save_payment(
            signed,
            by=instructeur,
            payment=balance,
            label="Solde",
            due_on=balance.due_on,
            amount=Decimal("10000"),
        )
    with pytest.raises(DomainError, match="ne change que par un avenant signé"):
        services.save_payment(
            signed, by=instructeur, label="Ajout", due_on=dt.date(2027, 6, 1), amount=1
        )
    with pytest.raises(DomainError, match="ne change que par un avenant signé"):
        services.delete_payment(balance, by=instructeur)
    with pytest.raises(DomainError, match="son texte ne change plus"):
        services.update_draft(
            signed, by=instructeur, period_start=signed.period_start, period_end=signed.period_end
        )
    balance.refresh_from_db()
    assert balance.amount == Decimal("12250.00")


def test_the_admin_shows_agreements_read_only(signed, admin_user, client):
    client.force_login(admin_user)
    for name in ("convention", "payment", "report", "amendment"):
        assert client.get(reverse(f"admin:conventions_{name}_add")).status_code == 403
    url = reverse("admin:conventions_convention_change", args=[signed.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="amount"' not in page.content.decode()  # shown as text, no input
    refused = client.post(url, {"amount": "1", "_save": "Enregistrer"})
    assert refused.status_code == 403
    balance = signed.payments.get(label="Solde")
    payment_url = reverse("admin:conventions_payment_change", args=[balance.pk])
    assert client.post(payment_url, {"amount": "1"}).status_code == 403
    delete_url = reverse("admin:conventions_payment_delete", args=[balance.pk])
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    signed.refresh_from_db()
    balance.refresh_from_db()
    assert (signed.amount, balance.amount) == (Decimal("24500.00"), Decimal("12250.00"))


def test_back_to_draft_withdraws_the_sent_version_and_keeps_its_sha256(sent, instructeur):
    first = sent.document_sha256
    services.back_to_draft(sent, by=instructeur, note="Objet à préciser")
    sent.refresh_from_db()
    assert sent.status == ConventionStatus.DRAFT and not sent.document
    note = sent.status_changes.get(action="back_to_draft").note
    assert note.startswith("Objet à préciser Version envoyée le 6 décembre 2026 à 10h00")
    assert first in note
    services.update_draft(
        sent,
        by=instructeur,
        period_start=sent.period_start,
        period_end=sent.period_end,
        object="Objet précisé.",
    )
    services.send_for_signature(sent, by=instructeur)
    sent.refresh_from_db()
    assert sent.document_sha256 and sent.document_sha256 != first
    assert "Objet précisé." in pdf_text(stored_bytes(sent), order="reading")

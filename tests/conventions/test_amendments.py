"""Avenants: after the signature, the amount, the end and the schedule change only through
an avenant with its own number, its PDF frozen with its SHA-256, its signed scan and its
history; its schedule applies only once it is signed. Refusals first."""

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conventions import services
from conventions.models import Amendment, AmendmentInstalment, ContentLocked
from conventions.states import AmendmentStatus, PaymentCondition, PaymentStatus, ReportKind
from core.exceptions import DomainError
from demo import modeles
from tests.conventions.conftest import TODAY, pay, pdf_upload
from tests.pdf import pdf_text

NEW_END = dt.date(2028, 3, 31)


def lower_schedule(amendment, by, *, balance=Decimal("10000"), due_on=dt.date(2028, 6, 30)):
    """The avenant's balance lowered to ``balance`` and moved, its text and amount set."""
    line = amendment.instalments.get(label="Solde")
    others = amendment.convention.amount - line.amount
    services.save_amendment_instalment(
        amendment,
        by=by,
        instalment=line,
        label="Solde",
        due_on=due_on,
        amount=balance,
        condition=PaymentCondition.FINAL_REPORTS,
    )
    return services.update_amendment(
        amendment,
        by=by,
        changes="Prolongation de trois mois et baisse du solde : une action abandonnée.",
        amount_after=others + balance,
        period_end_after=NEW_END,
    )


@pytest.fixture
def prepared(signed, instructeur):
    amendment = services.prepare_amendment(signed, by=instructeur)
    return lower_schedule(amendment, instructeur)


@pytest.fixture
def sent(prepared, instructeur):
    return services.send_amendment(prepared, by=instructeur)


def schedule(convention):
    return list(convention.payments.order_by("position").values_list("label", "amount", "due_on"))


# --- Refusals ------------------------------------------------------------------------------------


def test_an_avenant_needs_a_signed_agreement(convention, instructeur, ddets_reader):
    with pytest.raises(DomainError, match="convention signée"):
        services.prepare_amendment(convention, by=instructeur)
    services.send_for_signature(convention, by=instructeur)
    with pytest.raises(DomainError, match="convention signée"):
        services.prepare_amendment(convention, by=instructeur)
    services.record_signature(convention, by=instructeur, signed_on=TODAY, uploaded=pdf_upload())
    with pytest.raises(PermissionDenied):
        services.prepare_amendment(convention, by=ddets_reader)
    services.terminate_convention(convention, by=instructeur, reason="Fin")
    with pytest.raises(DomainError, match="convention signée"):
        services.prepare_amendment(convention, by=instructeur)
    assert not Amendment.objects.exists()


def test_one_avenant_at_a_time_numbered_in_order(signed, instructeur):
    first = services.prepare_amendment(signed, by=instructeur)
    assert (first.number, first.title) == (1, "Avenant n° 1")
    with pytest.raises(DomainError, match="déjà en préparation"):
        services.prepare_amendment(signed, by=instructeur)
    services.cancel_amendment(first, by=instructeur, reason="Finalement inutile")
    second = services.prepare_amendment(signed, by=instructeur)
    assert second.number == 2
    assert first.status_changes.get().note == "Finalement inutile"


def test_an_avenant_is_sent_only_when_it_says_and_changes_something(signed, instructeur):
    amendment = services.prepare_amendment(signed, by=instructeur)
    with pytest.raises(DomainError, match="Décrivez ce que l'avenant modifie"):
        services.send_amendment(amendment, by=instructeur)
    services.update_amendment(
        amendment,
        by=instructeur,
        changes="Rien",
        amount_after=signed.amount,
        period_end_after=signed.period_end,
    )
    with pytest.raises(DomainError, match="ne change ni le montant"):
        services.send_amendment(amendment, by=instructeur)
    services.update_amendment(
        amendment,
        by=instructeur,
        changes="Hausse",
        amount_after=signed.amount + Decimal("1000"),
        period_end_after=signed.period_end,
    )
    with pytest.raises(DomainError, match="doit couvrir exactement le nouveau montant"):
        services.send_amendment(amendment, by=instructeur)
    with pytest.raises(DomainError, match="dépasseraient le montant"):
        services.save_amendment_instalment(
            amendment, by=instructeur, label="Complément", due_on=TODAY, amount=Decimal("2000")
        )
        services.send_amendment(amendment, by=instructeur)
    with pytest.raises(DomainError, match="précède le début"):
        services.update_amendment(
            amendment,
            by=instructeur,
            changes="x",
            amount_after=signed.amount,
            period_end_after=dt.date(2026, 12, 31),
        )
    amendment.refresh_from_db()
    assert amendment.status == AmendmentStatus.DRAFT and not amendment.document


def test_an_instalment_of_an_avenant_is_not_dated_before_the_decision(prepared, instructeur):
    with pytest.raises(DomainError, match="précède la décision du 6 décembre 2026"):
        services.save_amendment_instalment(
            prepared,
            by=instructeur,
            label="Complément",
            due_on=dt.date(2026, 1, 31),
            amount=Decimal("1"),
        )


def test_a_sent_avenant_is_frozen_through_the_services_and_the_model_layer(sent, instructeur):
    with pytest.raises(DomainError, match="ne change plus"):
        services.update_amendment(
            sent,
            by=instructeur,
            changes="Autre chose",
            amount_after=Decimal("1"),
            period_end_after=NEW_END,
        )
    line = sent.instalments.get(label="Solde")
    with pytest.raises(DomainError, match="ne change plus"):
        services.save_amendment_instalment(
            sent, by=instructeur, instalment=line, label="Solde", due_on=TODAY, amount=1
        )
    with pytest.raises(DomainError, match="ne change plus"):
        services.delete_amendment_instalment(line, by=instructeur)
    row = Amendment.objects.get(pk=sent.pk)
    row.amount_after = Decimal("1")
    with pytest.raises(ContentLocked):
        row.save()
    line.amount = Decimal("1")
    with pytest.raises(ContentLocked):
        line.save()
    with pytest.raises(ContentLocked):
        AmendmentInstalment.objects.get(pk=line.pk).delete()
    with pytest.raises(ContentLocked):
        Amendment.objects.get(pk=sent.pk).delete()
    assert Amendment.objects.get(pk=sent.pk).amount_after == sent.amount_after


def test_the_schedule_applies_only_once_the_avenant_is_signed(sent, signed, instructeur):
    before = schedule(signed)
    signed.refresh_from_db()
    assert (signed.amount, signed.period_end) == (Decimal("24500.00"), dt.date(2027, 12, 31))
    assert schedule(signed) == before  # sent, not signed: nothing applied
    with pytest.raises(DomainError, match="futur"):
        services.record_amendment_signature(
            sent, by=instructeur, signed_on=TODAY + dt.timedelta(days=1), uploaded=pdf_upload()
        )
    with pytest.raises(DomainError, match="précède l'envoi"):
        services.record_amendment_signature(
            sent, by=instructeur, signed_on=TODAY - dt.timedelta(days=1), uploaded=pdf_upload()
        )
    docx = SimpleUploadedFile("avenant.pdf", modeles.funding_request_docx())
    with pytest.raises(DomainError, match="ne correspond pas"):
        services.record_amendment_signature(sent, by=instructeur, signed_on=TODAY, uploaded=docx)
    sent.refresh_from_db()
    assert sent.status == AmendmentStatus.SENT and not sent.signed_scan
    assert schedule(signed) == before


def test_signing_applies_the_amount_the_end_and_the_schedule(signed, instructeur):
    pay(signed.payments.get(label="Avance à la signature"), instructeur)
    amendment = services.prepare_amendment(signed, by=instructeur)
    # The advance paid stays as it is: the avenant's schedule holds the balance only.
    assert list(amendment.instalments.values_list("label", flat=True)) == ["Solde"]
    sent = services.send_amendment(lower_schedule(amendment, instructeur), by=instructeur)
    services.record_amendment_signature(
        sent, by=instructeur, signed_on=TODAY, uploaded=pdf_upload("avenant-1-signe.pdf")
    )
    signed.refresh_from_db()
    sent.refresh_from_db()
    assert sent.status == AmendmentStatus.SIGNED and sent.signed_scan_name == "avenant-1-signe.pdf"
    assert (signed.amount, signed.period_end) == (Decimal("22250.00"), NEW_END)
    assert schedule(signed) == [
        ("Avance à la signature", Decimal("12250.00"), dt.date(2027, 1, 31)),
        ("Solde", Decimal("10000.00"), dt.date(2028, 6, 30)),
    ]
    assert signed.payments.get(label="Avance à la signature").status == PaymentStatus.PAID
    # The closing reports follow the new end.
    assert signed.reports.get(kind=ReportKind.FINAL).due_on == dt.date(2028, 4, 30)
    assert list(sent.status_changes.values_list("action", "to_status", "by")) == [
        ("send", "sent", instructeur.pk),
        ("sign", "signed", instructeur.pk),
    ]


def test_an_instalment_requested_since_the_sending_blocks_the_signature(
    signed, instructeur, candidate
):
    """The avenant replaces the planned instalments: one requested meanwhile would count
    twice, so the signature is refused until the avenant is prepared again."""
    amendment = services.prepare_amendment(signed, by=instructeur)
    services.update_amendment(
        amendment,
        by=instructeur,
        changes="Report de l'avance",
        amount_after=signed.amount,
        period_end_after=signed.period_end,
    )
    line = amendment.instalments.get(label="Avance à la signature")
    services.save_amendment_instalment(
        amendment,
        by=instructeur,
        instalment=line,
        label=line.label,
        due_on=dt.date(2027, 3, 31),
        amount=line.amount,
    )
    services.send_amendment(amendment, by=instructeur)
    services.move_payment(
        signed.payments.get(label="Avance à la signature"), "request", by=instructeur, on=TODAY
    )
    with pytest.raises(DomainError, match="Un versement a changé depuis l'envoi"):
        services.record_amendment_signature(
            amendment, by=instructeur, signed_on=TODAY, uploaded=pdf_upload()
        )
    assert Amendment.objects.get(pk=amendment.pk).status == AmendmentStatus.SENT


def test_the_avenant_pdf_is_frozen_with_its_sha256_and_reads_back(
    sent, instructeur, candidate, client_for
):
    with sent.document.open("rb") as handle:
        content = handle.read()
    assert sent.document_sha256 == hashlib.sha256(content).hexdigest()
    text = pdf_text(content, order="reading")
    for expected in [
        "Avenant n° 1",
        "à la convention de partenariat n° CONV-2027",  # the title may wrap the number
        "Prolongation de trois mois et baisse du solde",
        "passe de 24 500,00 € à 22 250,00 €",
        "sa fin passe du 31 décembre 2027 au 31 mars 2028",
        "Avance à la signature",
        "10 000,00 €",
        "Après validation du bilan final et du compte rendu financier (CERFA n° 15059)",
        "Pour le Département de l'Isère",
        "Version envoyée pour signature le 6 décembre 2026 à 10h00",
    ]:
        assert expected in text, text
    assert "PROJET" not in text
    organisation = sent.convention.organisation
    organisation.name = "Nom changé après l'envoi"
    organisation.save()
    staff = client_for(instructeur).get(reverse("conventions:amendment_pdf", args=[sent.pk]))
    assert b"".join(staff.streaming_content) == content
    member = client_for(candidate).get(
        reverse("conventions:my_amendment_pdf", args=[sent.convention_id, sent.pk])
    )
    assert b"".join(member.streaming_content) == content
    sent.refresh_from_db()
    assert sent.document_sha256 == hashlib.sha256(content).hexdigest()


def test_an_avenant_in_preparation_is_a_marked_draft_hidden_from_the_organisation(
    prepared, instructeur, candidate, client_for
):
    response = client_for(instructeur).get(reverse("conventions:amendment_pdf", args=[prepared.pk]))
    assert "PROJET" in pdf_text(response.content, order="reading")
    hidden = client_for(candidate).get(
        reverse("conventions:my_amendment_pdf", args=[prepared.convention_id, prepared.pk])
    )
    assert hidden.status_code == 404


def test_back_to_preparation_then_sent_again(sent, instructeur):
    first = sent.document_sha256
    services.amendment_back_to_draft(sent, by=instructeur, note="Échéance à revoir")
    sent.refresh_from_db()
    assert sent.status == AmendmentStatus.DRAFT and not sent.document
    assert first in sent.status_changes.get(action="back_to_draft").note
    line = sent.instalments.get(label="Solde")
    services.save_amendment_instalment(
        sent,
        by=instructeur,
        instalment=line,
        label="Solde",
        due_on=dt.date(2028, 5, 31),
        amount=line.amount,
        condition=line.condition,
    )
    services.send_amendment(sent, by=instructeur)
    sent.refresh_from_db()
    assert sent.document_sha256 != first

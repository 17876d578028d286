"""The receipt leaves as PDF/A-2b, every font embedded (its QR code is vector art)."""

from django.utils import timezone

from candidatures import services
from candidatures.receipts import receipt_pdf
from tests.pdf import assert_archival, pdf_info


def test_the_receipt_is_pdfa(complete_dossier, candidate):
    receipt = services.submit_candidature(
        complete_dossier, by=candidate, received_at=timezone.now(), certified=True
    )

    content = receipt_pdf(receipt.pk)

    assert_archival(content)
    assert pdf_info(content)["Title"] == f"Accusé de réception {receipt.number}"

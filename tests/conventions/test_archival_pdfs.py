"""Agreements and avenants leave as PDF/A-2b, every font embedded: the files frozen when
they are sent for signature."""

from conventions import services
from tests.conventions.test_amendments import lower_schedule
from tests.pdf import assert_archival, pdf_info


def stored(document) -> bytes:
    with document.open("rb") as handle:
        return handle.read()


def test_the_sent_agreement_and_avenant_are_pdfa(signed, instructeur):
    amendment = services.prepare_amendment(signed, by=instructeur)
    amendment = services.send_amendment(lower_schedule(amendment, instructeur), by=instructeur)

    for content in (stored(signed.document), stored(amendment.document)):
        assert_archival(content)
        assert pdf_info(content)["Title"]

"""A file still arriving when the dossier is submitted must not change the dossier.

The upload view reads the dossier before the body streams in, which may take minutes;
meanwhile another member submits. The file is then refused and the receipt still lists
exactly what the dossier holds (found by the deadline-rush bench, ``bench.rush``).
"""

import pytest
from django.utils import timezone

from candidatures import services
from candidatures.models import Candidature, Document
from core.exceptions import DomainError
from tests.candidatures.conftest import pdf_file


def test_a_file_arriving_after_the_submission_is_refused(complete_dossier, candidate):
    read_by_the_upload = Candidature.objects.get(pk=complete_dossier.pk)
    receipt = services.submit_candidature(
        Candidature.objects.get(pk=complete_dossier.pk),
        by=candidate,
        received_at=timezone.now(),
        certified=True,
    )
    piece = complete_dossier.call.required_documents.get(mandatory=True)
    before = list(Document.objects.values_list("pk", "sha256"))

    with pytest.raises(DomainError, match="déposé"):
        services.add_document(
            read_by_the_upload, piece, by=candidate, uploaded=pdf_file("arrivé-tard.pdf")
        )

    assert list(Document.objects.values_list("pk", "sha256")) == before
    assert [d["sha256"] for d in receipt.manifest["documents"]] == [sha for _, sha in before]

"""The staff dossier page keeps its paper-copy and piece-request forms rendered per
version of their fields (core.page_cache.kept_form): a paper copy recorded, or a
required document renamed, shows in the forms at once."""

import pytest
from django.urls import reverse

from aap.models import RequiredDocument
from candidatures.models import PaperCopy
from tests.candidatures.test_staff import submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def deposited(complete_dossier, candidate):
    complete_dossier.call.paper_copy_required = True
    complete_dossier.call.save(update_fields=["paper_copy_required"])
    submit(complete_dossier, candidate)
    return complete_dossier


def form_html(client, dossier, action: str) -> str:
    """The HTML of the page's form posting to ``action``."""
    page = client.get(reverse("candidatures:staff_dossier", args=[dossier.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    start = content.index(f'action="{reverse(action, args=[dossier.pk])}"')
    return content[start : content.index("</form>", start)]


def test_the_paper_copy_form_follows_the_paper_copy(client_for, instructeur, deposited):
    client = client_for(instructeur)
    blank = form_html(client, deposited, "candidatures:paper_copy")
    assert "Motif de la correction" not in blank
    PaperCopy.objects.create(
        candidature=deposited,
        method="mail",
        postmarked_on="2024-09-17",
        received_on="2024-09-20",
        identical="yes",
        note="Deux exemplaires reçus.",
        recorded_by=instructeur,
    )
    recorded = form_html(client, deposited, "candidatures:paper_copy")
    assert "Motif de la correction" in recorded and "Deux exemplaires reçus." in recorded
    PaperCopy.objects.filter(candidature=deposited).update(note="Un seul exemplaire.")
    corrected = form_html(client, deposited, "candidatures:paper_copy")
    assert "Un seul exemplaire." in corrected and "Deux exemplaires" not in corrected


def test_the_piece_request_form_follows_the_call_documents(client_for, instructeur, deposited):
    client = client_for(instructeur)
    document = deposited.call.required_documents.first()
    before = form_html(client, deposited, "candidatures:piece_request")
    assert document.label in before
    # Test data only: a published call's documents do not change through the services.
    RequiredDocument.objects.filter(pk=document.pk).update(label="Pièce renommée en base")
    after = form_html(client, deposited, "candidatures:piece_request")
    assert "Pièce renommée en base" in after and document.label not in after

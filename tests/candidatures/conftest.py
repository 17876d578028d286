import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from candidatures.models import Candidature
from demo import modeles
from tests.factories import OrganisationFactory, dossier_ready_call

PDF = modeles.sample_pdf("Dossier de demande de financement", ["Communauté de communes"])


@pytest.fixture
def call(db):
    return dossier_ready_call()


@pytest.fixture
def organisation(candidate):
    return OrganisationFactory(name="Communauté de communes du Trièves (test)", members=[candidate])


@pytest.fixture
def other_organisation(other_candidate):
    return OrganisationFactory(name="GIP de l'autre bout", members=[other_candidate])


@pytest.fixture
def dossier(call, organisation, candidate):
    return Candidature.objects.create(call=call, organisation=organisation, created_by=candidate)


def pdf_file(name="dossier.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def fill(dossier, by, *, with_file=True):
    """Answer every required question, choose a lot and attach the mandatory PDF."""
    from candidatures import services

    questions = {q.label: q for q in dossier.call.form_questions.all()}
    services.save_answers(
        dossier,
        by=by,
        values={
            questions["Lots sollicités"].pk: [dossier.call.lots.first().pk],
            questions["Résumé du projet"].pk: "Co-animer le réseau des facilitateurs.",
            questions["Montant sollicité"].pk: "25000.00",
        },
    )
    if with_file:
        mandatory = dossier.call.required_documents.get(mandatory=True)
        services.add_document(dossier, mandatory, by=by, uploaded=pdf_file())
    return dossier


@pytest.fixture
def complete_dossier(dossier, candidate):
    return fill(dossier, candidate)

"""Only admissible dossiers get a committee decision."""

import pytest
from django.urls import reverse

from core.exceptions import DomainError
from evaluation import services
from evaluation.models import Decision
from tests.evaluation.conftest import admitted, close, submitted_dossier


@pytest.fixture
def lot(graded_call):
    return graded_call.lots.first()


def test_an_inadmissible_dossier_gets_no_decision(graded_call, lot, instructeur):
    """Else it would count against the lot's budget, lead to an agreement, and be listed
    as selected on the public page while its letter says it was not admissible."""
    alpha, beta = admitted(
        graded_call, ["EPCI Alpha", "GIP Bêta"], by_instructeur=instructeur, lot=lot
    )
    services.decide_admissibility(beta, by=instructeur, admissible=False, reason="Hors délai")
    with pytest.raises(DomainError, match="recevable"):
        services.record_decision(
            beta, lot, by=instructeur, outcome="selected", amount_granted=1, fte_granted=1
        )
    services.record_decision(alpha, lot, by=instructeur, outcome="waiting_list")
    assert list(Decision.objects.values_list("candidature", "outcome")) == [
        (alpha.pk, "waiting_list")
    ]


def test_a_dossier_whose_admissibility_is_not_decided_gets_no_decision(
    graded_call, lot, instructeur
):
    dossier = submitted_dossier(graded_call, "EPCI Alpha", lot=lot)
    close(graded_call)
    with pytest.raises(DomainError, match="recevable"):
        services.record_decision(
            dossier, lot, by=instructeur, outcome="selected", amount_granted=1, fte_granted=1
        )
    assert not Decision.objects.exists()


def test_the_decision_page_refuses_an_inadmissible_dossier(graded_call, lot, instructeur, client):
    (dossier,) = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur, lot=lot)
    services.decide_admissibility(dossier, by=instructeur, admissible=False, reason="Hors délai")
    client.force_login(instructeur)
    response = client.post(
        reverse("evaluation:decision", args=[dossier.pk, lot.pk]),
        {
            f"lot{lot.pk}-outcome": "selected",
            f"lot{lot.pk}-amount_granted": "1000",
            f"lot{lot.pk}-fte_granted": "0,5",
        },
        follow=True,
    )
    assert "recevable" in response.content.decode()
    assert not Decision.objects.exists()

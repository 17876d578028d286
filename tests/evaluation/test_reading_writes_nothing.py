"""GET never writes: reading the grid or the scoring page creates no row."""

from django.urls import reverse

from evaluation import services
from evaluation.models import Evaluation, ScoringGrid
from tests.evaluation.conftest import admitted


def test_reading_the_grid_and_the_scoring_page_creates_nothing(
    graded_call, instructeur, evaluators, client_for
):
    [dossier] = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur)
    ScoringGrid.objects.filter(call=graded_call).delete()
    assignment = services.assign(dossier, evaluators[0], by=instructeur)
    services.declare_conflict(assignment, by=evaluators[0], has_conflict=False)

    grid_page = client_for(instructeur).get(reverse("evaluation:grid", args=[graded_call.pk]))
    score_page = client_for(evaluators[0]).get(reverse("evaluation:score", args=[assignment.pk]))

    assert grid_page.status_code == 200 and score_page.status_code == 200
    assert grid_page.context["grid"].pk is None  # the defaults, shown, not stored
    assert not ScoringGrid.objects.filter(call=graded_call).exists()
    assert not Evaluation.objects.filter(assignment=assignment).exists()


def test_saving_a_draft_creates_the_evaluation(graded_call, instructeur, evaluators, client_for):
    [dossier] = admitted(graded_call, ["EPCI Alpha"], by_instructeur=instructeur)
    assignment = services.assign(dossier, evaluators[0], by=instructeur)
    services.declare_conflict(assignment, by=evaluators[0], has_conflict=False)

    services.save_evaluation(
        assignment, by=evaluators[0], scores={}, justifications={}, comment="À reprendre."
    )

    assert Evaluation.objects.get(assignment=assignment).overall_comment == "À reprendre."

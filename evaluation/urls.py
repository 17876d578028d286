from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    # Instructeurs: a call's evaluation
    path(
        "gestion/appels/<int:pk>/recevabilite/",
        views.AdmissibilityListView.as_view(),
        name="admissibility",
    ),
    path(
        "gestion/dossiers/<int:pk>/recevabilite/",
        views.AdmissibilityDecideView.as_view(),
        name="admissibility_decide",
    ),
    path("gestion/appels/<int:pk>/grille/", views.GridView.as_view(), name="grid"),
    path(
        "gestion/appels/<int:pk>/affectations/",
        views.AssignmentsView.as_view(),
        name="assignments",
    ),
    path("gestion/classements/", views.RankingsIndexView.as_view(), name="rankings"),
    path(
        "gestion/appels/<int:pk>/classement/<int:lot>/",
        views.RankingView.as_view(),
        name="ranking",
    ),
    path(
        "gestion/appels/<int:pk>/classement/<int:lot>/export.<str:fmt>",
        views.RankingExportView.as_view(),
        name="ranking_export",
    ),
    path(
        "gestion/appels/<int:pk>/classement/<int:lot>/proces-verbal/",
        views.CommitteeRecordView.as_view(),
        name="committee_record",
    ),
    path(
        "gestion/proces-verbaux/<int:pk>/",
        views.CommitteeRecordDownloadView.as_view(),
        name="committee_record_download",
    ),
    path("gestion/appels/<int:pk>/notifier/", views.NotifyView.as_view(), name="notify"),
    # A dossier's evaluations, consensus, opinions and decisions
    path(
        "gestion/dossiers/<int:pk>/evaluations/",
        views.DossierEvaluationsView.as_view(),
        name="dossier",
    ),
    path("gestion/dossiers/<int:pk>/consensus/", views.ConsensusView.as_view(), name="consensus"),
    path("gestion/dossiers/<int:pk>/avis/", views.OpinionView.as_view(), name="opinion"),
    path(
        "gestion/dossiers/<int:pk>/decision/<int:lot>/",
        views.DecisionView.as_view(),
        name="decision",
    ),
    path(
        "gestion/evaluations/<int:pk>/rouvrir/",
        views.ReopenEvaluationView.as_view(),
        name="reopen",
    ),
    # Evaluators
    path("evaluations/", views.MyEvaluationsView.as_view(), name="my_evaluations"),
    path("evaluations/<int:pk>/declaration/", views.DeclareView.as_view(), name="declare"),
    path("evaluations/<int:pk>/", views.ScoreView.as_view(), name="score"),
    path(
        "evaluations/<int:pk>/fichiers/<int:document_id>/",
        views.EvaluatorDownloadView.as_view(),
        name="evaluator_download",
    ),
    # Candidates
    path(
        "candidatures/dossiers/<int:pk>/notification/",
        views.LetterDownloadView.as_view(),
        name="letter",
    ),
]

from django.urls import path

from evaluation.views import call, candidate, committee, dossier, evaluator, letters, ranking

app_name = "evaluation"

urlpatterns = [
    # Instructeurs: a call's evaluation
    path(
        "gestion/appels/<int:pk>/recevabilite/",
        call.AdmissibilityListView.as_view(),
        name="admissibility",
    ),
    path(
        "gestion/dossiers/<int:pk>/recevabilite/",
        call.AdmissibilityDecideView.as_view(),
        name="admissibility_decide",
    ),
    path(
        "gestion/dossiers/<int:pk>/recevabilite/rectifier/",
        dossier.AdmissibilityRectifyView.as_view(),
        name="admissibility_rectify",
    ),
    path(
        "gestion/dossiers/<int:pk>/recevabilite/rectifier/apercu/",
        dossier.AdmissibilityRectifyView.as_view(preview=True),
        name="admissibility_rectify_preview",
    ),
    path("gestion/appels/<int:pk>/grille/", call.GridView.as_view(), name="grid"),
    path(
        "gestion/appels/<int:pk>/affectations/",
        call.AssignmentsView.as_view(),
        name="assignments",
    ),
    path("gestion/classements/", ranking.RankingsIndexView.as_view(), name="rankings"),
    path(
        "gestion/appels/<int:pk>/classement/<int:lot>/",
        ranking.RankingView.as_view(),
        name="ranking",
    ),
    path(
        "gestion/appels/<int:pk>/classement/<int:lot>/export.<str:fmt>",
        ranking.RankingExportView.as_view(),
        name="ranking_export",
    ),
    path(
        "gestion/appels/<int:pk>/classement/<int:lot>/proces-verbal/",
        ranking.CommitteeRecordView.as_view(),
        name="committee_record",
    ),
    path(
        "gestion/proces-verbaux/<int:pk>/",
        ranking.CommitteeRecordDownloadView.as_view(),
        name="committee_record_download",
    ),
    # The selection committee: quorum rule, meetings, members present
    path("gestion/appels/<int:pk>/comite/", committee.CommitteeView.as_view(), name="committee"),
    path(
        "gestion/appels/<int:pk>/comite/nouvelle-seance/",
        committee.MeetingCreateView.as_view(),
        name="meeting_create",
    ),
    path("gestion/seances/<int:pk>/", committee.MeetingView.as_view(), name="meeting"),
    path(
        "gestion/seances/<int:pk>/membres/ajouter/",
        committee.MemberCreateView.as_view(),
        name="member_create",
    ),
    path("gestion/membres-comite/<int:pk>/", committee.MemberView.as_view(), name="member"),
    path(
        "gestion/membres-comite/<int:pk>/retirer/",
        committee.MemberDeleteView.as_view(),
        name="member_delete",
    ),
    path("gestion/appels/<int:pk>/notifier/", call.NotifyView.as_view(), name="notify"),
    # Letters: the call's signatory and recours, each dossier's paragraphs and preview
    path(
        "gestion/appels/<int:pk>/lettres/signataire-et-recours/",
        letters.LetterTermsView.as_view(),
        name="letter_terms",
    ),
    path(
        "gestion/dossiers/<int:pk>/lettre/", letters.LetterDraftView.as_view(), name="letter_draft"
    ),
    path(
        "gestion/dossiers/<int:pk>/lettre/apercu.<str:fmt>",
        letters.LetterPreviewView.as_view(),
        name="letter_preview",
    ),
    # A dossier's evaluations, consensus, opinions and decisions
    path(
        "gestion/dossiers/<int:pk>/evaluations/",
        dossier.DossierEvaluationsView.as_view(),
        name="dossier",
    ),
    path("gestion/dossiers/<int:pk>/consensus/", dossier.ConsensusView.as_view(), name="consensus"),
    path("gestion/dossiers/<int:pk>/avis/", dossier.OpinionView.as_view(), name="opinion"),
    path(
        "gestion/dossiers/<int:pk>/decision/<int:lot>/",
        dossier.DecisionView.as_view(),
        name="decision",
    ),
    path(
        "gestion/dossiers/<int:pk>/decision/<int:lot>/rectifier/",
        dossier.RectifyView.as_view(),
        name="rectify",
    ),
    path(
        "gestion/dossiers/<int:pk>/decision/<int:lot>/rectifier/apercu/",
        dossier.RectifyPreviewView.as_view(),
        name="rectify_preview",
    ),
    path(
        "gestion/evaluations/<int:pk>/rouvrir/",
        dossier.ReopenEvaluationView.as_view(),
        name="reopen",
    ),
    # Evaluators
    path("evaluations/", evaluator.MyEvaluationsView.as_view(), name="my_evaluations"),
    path("evaluations/<int:pk>/declaration/", evaluator.DeclareView.as_view(), name="declare"),
    path("evaluations/<int:pk>/", evaluator.ScoreView.as_view(), name="score"),
    path(
        "evaluations/<int:pk>/fichiers/<int:document_id>/",
        evaluator.EvaluatorDownloadView.as_view(),
        name="evaluator_download",
    ),
    # Candidates
    path(
        "candidatures/dossiers/<int:pk>/notification/",
        candidate.LetterDownloadView.as_view(),
        name="letter",
    ),
    path(
        "candidatures/dossiers/<int:pk>/notification/<int:letter>/",
        candidate.LetterDownloadView.as_view(),
        name="letter_file",
    ),
]

from django.urls import path

from aap.views import backoffice, call_abandon, form_editor, programmes, public

app_name = "aap"

urlpatterns = [
    path("", public.HomeView.as_view(), name="home"),
    path("appels/", public.CallListView.as_view(), name="call_list"),
    path("appels/<slug:slug>/", public.CallDetailView.as_view(), name="call_detail"),
    path("appels/<slug:slug>/pdf/", public.CallPdfView.as_view(), name="call_pdf"),
    path(
        "appels/<slug:slug>/pieces/<int:pk>/modele/",
        public.TemplateDownloadView.as_view(),
        name="template_download",
    ),
    path("appels/<slug:slug>/question/", public.AskQuestionView.as_view(), name="ask_question"),
    # Back-office of the Service IVE
    path("gestion/appels/", backoffice.CallListView.as_view(), name="backoffice_calls"),
    path("gestion/appels/nouveau/", backoffice.CallCreateView.as_view(), name="backoffice_create"),
    path("gestion/appels/<int:pk>/", backoffice.CallDetailView.as_view(), name="backoffice_call"),
    path(
        "gestion/appels/<int:pk>/modifier/",
        backoffice.CallUpdateView.as_view(),
        name="backoffice_edit",
    ),
    path(
        "gestion/appels/<int:pk>/dupliquer/",
        backoffice.CallCopyView.as_view(),
        name="backoffice_copy",
    ),
    path(
        "gestion/appels/<int:pk>/lots/", backoffice.CallLotsView.as_view(), name="backoffice_lots"
    ),
    path(
        "gestion/appels/<int:pk>/criteres/",
        backoffice.CallCriteriaView.as_view(),
        name="backoffice_criteria",
    ),
    path(
        "gestion/appels/<int:pk>/actions/",
        backoffice.CallActionsView.as_view(),
        name="backoffice_actions",
    ),
    path(
        "gestion/appels/<int:pk>/formulaire/",
        form_editor.FormEditorView.as_view(),
        name="backoffice_questions_form",
    ),
    path(
        "gestion/appels/<int:pk>/formulaire/ajouter/",
        form_editor.QuestionAddView.as_view(),
        name="form_question_add",
    ),
    path(
        "gestion/appels/<int:pk>/formulaire/<int:question_id>/modifier/",
        form_editor.QuestionEditView.as_view(),
        name="form_question_edit",
    ),
    path(
        "gestion/appels/<int:pk>/formulaire/<int:question_id>/supprimer/",
        form_editor.QuestionDeleteView.as_view(),
        name="form_question_delete",
    ),
    path(
        "gestion/appels/<int:pk>/formulaire/<int:question_id>/deplacer/",
        form_editor.QuestionMoveView.as_view(),
        name="form_question_move",
    ),
    path(
        "gestion/appels/<int:pk>/pieces/",
        backoffice.CallDocumentsView.as_view(),
        name="backoffice_documents",
    ),
    path(
        "gestion/appels/<int:pk>/statut/<str:action>/",
        backoffice.CallTransitionView.as_view(),
        name="backoffice_transition",
    ),
    path(
        "gestion/appels/<int:pk>/rouvrir/",
        backoffice.CallReopenView.as_view(),
        name="backoffice_reopen",
    ),
    path(
        "gestion/appels/<int:pk>/sans-suite/",
        call_abandon.CallAbandonView.as_view(),
        name="backoffice_abandon",
    ),
    path(
        "gestion/appels/<int:pk>/questions/",
        backoffice.QuestionListView.as_view(),
        name="backoffice_questions",
    ),
    path(
        "gestion/appels/<int:pk>/rappels/",
        backoffice.CallRemindersView.as_view(),
        name="backoffice_reminders",
    ),
    path("gestion/programmes/", programmes.ProgrammeListView.as_view(), name="programme_list"),
    path(
        "gestion/programmes/nouveau/",
        programmes.ProgrammeCreateView.as_view(),
        name="programme_create",
    ),
    path(
        "gestion/programmes/<int:pk>/modifier/",
        programmes.ProgrammeUpdateView.as_view(),
        name="programme_edit",
    ),
    path(
        "gestion/programmes/<int:pk>/supprimer/",
        programmes.ProgrammeDeleteView.as_view(),
        name="programme_delete",
    ),
    path(
        "gestion/questions/<int:pk>/repondre/",
        backoffice.AnswerQuestionView.as_view(),
        name="backoffice_answer",
    ),
]

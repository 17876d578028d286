from django.urls import path

from candidatures.views import candidate, form_preview, organisations, staff, submission

app_name = "candidatures"

urlpatterns = [
    # Candidates: "Mes dossiers"
    path("candidatures/", candidate.MyDossiersView.as_view(), name="my_dossiers"),
    path(
        "candidatures/structures/nouvelle/",
        organisations.OrganisationCreateView.as_view(),
        name="organisation_create",
    ),
    path(
        "candidatures/structures/<int:pk>/",
        organisations.OrganisationDetailView.as_view(),
        name="organisation",
    ),
    path(
        "candidatures/structures/<int:pk>/modifier/",
        organisations.OrganisationUpdateView.as_view(),
        name="organisation_edit",
    ),
    path(
        "candidatures/structures/<int:pk>/inviter/",
        organisations.InviteView.as_view(),
        name="invite",
    ),
    path(
        "candidatures/invitation/<str:token>/",
        organisations.AcceptInvitationView.as_view(),
        name="invitation",
    ),
    path("candidatures/appels/<slug:slug>/", candidate.StartView.as_view(), name="start"),
    path("candidatures/dossiers/<int:pk>/", candidate.DossierView.as_view(), name="dossier"),
    path(
        "candidatures/dossiers/<int:pk>/apercu/",
        candidate.DossierPreviewView.as_view(),
        name="preview",
    ),
    path(
        "candidatures/dossiers/<int:pk>/formulaire/",
        candidate.AnswersView.as_view(),
        name="answers",
    ),
    path(
        "candidatures/dossiers/<int:pk>/pieces/",
        candidate.DocumentsView.as_view(),
        name="documents",
    ),
    path(
        "candidatures/dossiers/<int:pk>/pieces/<int:required_id>/envoyer/",
        candidate.UploadView.as_view(),
        name="upload",
    ),
    path(
        "candidatures/dossiers/<int:pk>/fichiers/<int:document_id>/",
        candidate.DocumentDownloadView.as_view(),
        name="download",
    ),
    path(
        "candidatures/dossiers/<int:pk>/fichiers/<int:document_id>/supprimer/",
        candidate.DocumentDeleteView.as_view(),
        name="delete_document",
    ),
    path("candidatures/dossiers/<int:pk>/deposer/", submission.SubmitView.as_view(), name="submit"),
    path(
        "candidatures/dossiers/<int:pk>/retirer/",
        submission.WithdrawView.as_view(),
        name="withdraw",
    ),
    path(
        "candidatures/dossiers/<int:pk>/accuses/<int:receipt_id>/",
        submission.ReceiptDownloadView.as_view(),
        name="receipt",
    ),
    path(
        "candidatures/dossiers/<int:pk>/messages/",
        candidate.MessageView.as_view(),
        name="message",
    ),
    # Service IVE and DDETS
    path(
        "gestion/appels/<int:pk>/dossiers/",
        staff.DossierListView.as_view(),
        name="staff_dossiers",
    ),
    path(
        "gestion/appels/<int:pk>/dossiers/export.<str:fmt>",
        staff.DossierExportView.as_view(),
        name="staff_dossiers_export",
    ),
    path(
        "gestion/appels/<int:pk>/dossiers/actions/",
        staff.DossierBulkView.as_view(),
        name="staff_dossiers_bulk",
    ),
    path(
        "gestion/appels/<int:pk>/formulaire/apercu/",
        form_preview.FormPreviewView.as_view(),
        name="form_preview",
    ),
    path("gestion/dossiers/<int:pk>/", staff.StaffDossierView.as_view(), name="staff_dossier"),
    path(
        "gestion/dossiers/<int:pk>/fichiers/<int:document_id>/",
        staff.StaffDocumentDownloadView.as_view(),
        name="staff_download",
    ),
    path(
        "gestion/dossiers/<int:pk>/accuses/<int:receipt_id>/",
        staff.StaffReceiptDownloadView.as_view(),
        name="staff_receipt",
    ),
    path(
        "gestion/dossiers/<int:pk>/exemplaire-papier/",
        staff.PaperCopyView.as_view(),
        name="paper_copy",
    ),
    path(
        "gestion/dossiers/<int:pk>/messages/",
        staff.StaffMessageView.as_view(),
        name="staff_message",
    ),
    path(
        "gestion/dossiers/<int:pk>/demandes-de-pieces/",
        staff.PieceRequestView.as_view(),
        name="piece_request",
    ),
    path(
        "gestion/dossiers/<int:pk>/demandes-de-pieces/<int:request_id>/clore/",
        staff.ClosePieceRequestView.as_view(),
        name="close_piece_request",
    ),
    path("r/<str:token>/", staff.VerifyReceiptView.as_view(), name="verify_receipt"),
]

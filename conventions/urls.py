from django.urls import path

from conventions.views import amendments, dashboard, followup, member, public, staff

app_name = "conventions"

urlpatterns = [
    # Service IVE, read by the DDETS
    path("gestion/conventions/", dashboard.DashboardView.as_view(), name="dashboard"),
    path(
        "gestion/conventions/export/<str:what>.xlsx",
        dashboard.ExportView.as_view(),
        name="export",
    ),
    path(
        "gestion/decisions/<int:pk>/convention/",
        staff.CreateConventionView.as_view(),
        name="create",
    ),
    path("gestion/conventions/<int:pk>/", staff.ConventionDetailView.as_view(), name="detail"),
    path("gestion/conventions/<int:pk>/pdf/", staff.ConventionPdfView.as_view(), name="pdf"),
    path(
        "gestion/conventions/<int:pk>/convention-signee/",
        staff.ScanDownloadView.as_view(),
        name="scan",
    ),
    path(
        "gestion/conventions/<int:pk>/statut/<str:action>/",
        staff.TransitionView.as_view(),
        name="transition",
    ),
    path("gestion/conventions/<int:pk>/signature/", staff.SignView.as_view(), name="sign"),
    path("gestion/conventions/<int:pk>/brouillon/", staff.DraftView.as_view(), name="draft"),
    path(
        "gestion/conventions/<int:pk>/avenants/",
        amendments.PrepareAmendmentView.as_view(),
        name="amendment",
    ),
    path(
        "gestion/avenants/<int:pk>/",
        amendments.AmendmentDetailView.as_view(),
        name="amendment_detail",
    ),
    path(
        "gestion/avenants/<int:pk>/modifier/",
        amendments.AmendmentUpdateView.as_view(),
        name="amendment_update",
    ),
    path(
        "gestion/avenants/<int:pk>/versements/",
        amendments.AmendmentInstalmentAddView.as_view(),
        name="amendment_instalment_add",
    ),
    path(
        "gestion/avenants/versements/<int:pk>/supprimer/",
        amendments.AmendmentInstalmentDeleteView.as_view(),
        name="amendment_instalment_delete",
    ),
    path(
        "gestion/avenants/<int:pk>/statut/<str:action>/",
        amendments.AmendmentTransitionView.as_view(),
        name="amendment_transition",
    ),
    path(
        "gestion/avenants/<int:pk>/signature/",
        amendments.AmendmentSignView.as_view(),
        name="amendment_sign",
    ),
    path(
        "gestion/avenants/<int:pk>/pdf/",
        amendments.AmendmentPdfView.as_view(),
        name="amendment_pdf",
    ),
    path(
        "gestion/avenants/<int:pk>/avenant-signe/",
        amendments.AmendmentScanView.as_view(),
        name="amendment_scan",
    ),
    path("gestion/conventions/<int:pk>/reconduire/", staff.RenewView.as_view(), name="renew"),
    path(
        "gestion/conventions/<int:pk>/versements/",
        followup.PaymentAddView.as_view(),
        name="payment_add",
    ),
    path(
        "gestion/versements/<int:pk>/modifier/",
        followup.PaymentEditView.as_view(),
        name="payment_edit",
    ),
    path(
        "gestion/versements/<int:pk>/supprimer/",
        followup.PaymentDeleteView.as_view(),
        name="payment_delete",
    ),
    path(
        "gestion/versements/<int:pk>/<str:action>/",
        followup.PaymentMoveView.as_view(),
        name="payment_move",
    ),
    path("gestion/bilans/<int:pk>/", followup.ReportDownloadView.as_view(), name="report_download"),
    path(
        "gestion/bilans/<int:pk>/valider/",
        followup.ReportAcceptView.as_view(),
        name="report_accept",
    ),
    path(
        "gestion/bilans/<int:pk>/renvoyer/",
        followup.ReportSendBackView.as_view(),
        name="report_send_back",
    ),
    path(
        "gestion/conventions/<int:pk>/points-etape/",
        followup.ReviewAddView.as_view(),
        name="review_add",
    ),
    path(
        "gestion/points-etape/<int:pk>/compte-rendu/",
        followup.ReviewRecordView.as_view(),
        name="review_record",
    ),
    path(
        "gestion/points-etape/<int:pk>/remarques/",
        followup.RemarkView.as_view(),
        name="review_remark",
    ),
    path(
        "gestion/appels/<int:pk>/indicateurs/",
        followup.CallIndicatorsView.as_view(),
        name="call_indicators",
    ),
    # The organisation's members
    path("candidatures/conventions/", member.MyConventionsView.as_view(), name="my_conventions"),
    path(
        "candidatures/conventions/<int:pk>/",
        member.MemberConventionView.as_view(),
        name="my_convention",
    ),
    path("candidatures/conventions/<int:pk>/pdf/", member.MemberPdfView.as_view(), name="my_pdf"),
    path(
        "candidatures/conventions/<int:pk>/convention-signee/",
        member.MemberScanView.as_view(),
        name="my_scan",
    ),
    path(
        "candidatures/conventions/<int:pk>/avenants/<int:amendment_id>/pdf/",
        member.MemberAmendmentPdfView.as_view(),
        name="my_amendment_pdf",
    ),
    path(
        "candidatures/conventions/<int:pk>/avenants/<int:amendment_id>/avenant-signe/",
        member.MemberAmendmentScanView.as_view(),
        name="my_amendment_scan",
    ),
    path(
        "candidatures/conventions/<int:pk>/bilans/<int:report_id>/",
        member.MemberReportDownloadView.as_view(),
        name="my_report",
    ),
    path(
        "candidatures/conventions/<int:pk>/bilans/<int:report_id>/envoyer/",
        member.ReportUploadView.as_view(),
        name="report_upload",
    ),
    path(
        "candidatures/conventions/<int:pk>/indicateurs/",
        member.IndicatorsView.as_view(),
        name="indicators",
    ),
    # Anyone: the subsidies open data
    path(
        "donnees-ouvertes/subventions.csv",
        public.OpenDataView.as_view(),
        name="opendata",
    ),
]

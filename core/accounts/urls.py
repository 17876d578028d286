from django.urls import path

from core.accounts import mfa_views, views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.LoginView.as_view(), name="login"),
    path("deconnexion/", views.LogoutView.as_view(), name="logout"),
    path("proconnect/", views.ProConnectLoginView.as_view(), name="proconnect_login"),
    path("proconnect/retour/", views.ProConnectCallbackView.as_view(), name="proconnect_callback"),
    path("inscription/", views.SignupView.as_view(), name="signup"),
    path("inscription/envoyee/", views.SignupDoneView.as_view(), name="signup_done"),
    path(
        "verifier/<str:uidb64>/<str:token>/", views.VerifyEmailView.as_view(), name="verify_email"
    ),
    path("", views.ProfileView.as_view(), name="profile"),
    path(
        "double-authentification/",
        mfa_views.SecondFactorVerifyView.as_view(),
        name="mfa_verify",
    ),
    path(
        "double-authentification/activer/",
        mfa_views.SecondFactorSetupView.as_view(),
        name="mfa_setup",
    ),
    path(
        "double-authentification/codes-de-secours/",
        mfa_views.RecoveryCodesView.as_view(),
        name="mfa_recovery_codes",
    ),
    path(
        "double-authentification/desactiver/",
        mfa_views.SecondFactorDisableView.as_view(),
        name="mfa_disable",
    ),
    path("espace/", views.HomeView.as_view(), name="home"),
    path("rappels/", views.MyRemindersView.as_view(), name="reminders"),
    path("agenda/", views.CalendarView.as_view(), name="calendar"),
    path("mot-de-passe/", views.PasswordChangeView.as_view(), name="password_change"),
    path("mot-de-passe/oublie/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "mot-de-passe/oublie/envoye/",
        views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "mot-de-passe/nouveau/<str:uidb64>/<str:token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]

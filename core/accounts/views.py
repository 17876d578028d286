import logging

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, RedirectView, TemplateView, UpdateView, View
from mozilla_django_oidc import views as oidc_views

from core import downloads, rules, throttle
from core.accounts import mfa, proconnect, services
from core.accounts.forms import LoginForm, PasswordResetForm, ProfileForm, SignupForm
from core.addresses import normalise_email
from core.calendars import events_for, to_ics
from core.links import absolute_url
from core.models import CalendarFeed, Reminder
from core.permissions import PublicMixin, RuleMixin, rule_required
from core.reminders import kind_label

logger = logging.getLogger(__name__)

PROCONNECT_UNAVAILABLE = _(
    "ProConnect ne répond pas pour le moment. Réessayez dans quelques minutes, ou "
    "connectez-vous avec votre adresse et votre mot de passe."
)
PROCONNECT_UNVERIFIED = _(
    "La réponse de ProConnect n'a pas pu être vérifiée (lien expiré, déjà utilisé ou "
    "venu d'une autre fenêtre) : vous n'êtes pas connecté. Recommencez depuis cette page."
)


class LoginView(PublicMixin, auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        # Every attempt is counted before the password is checked and a successful one is
        # given back, so only failures use up the limit (many people may share an office's
        # address), and attempts sent in parallel cannot slip between a check and a count.
        try:
            self.attempts = throttle.hit(("login_ip", throttle.ip_key(request)))
        except throttle.Throttled as error:
            form = self.get_form()
            form.refusal = _(
                "Trop de tentatives de connexion depuis cette connexion internet. "
                "Par sécurité, réessayez dans %(wait)s."
            ) % {"wait": error.wait}
            form.is_valid()  # refuses with the message, never checks the password
            return throttle.refused(self, form, error)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        throttle.refund(self.attempts)
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        return super().get_context_data(proconnect_enabled=proconnect.enabled(), **kwargs)


class LogoutView(PublicMixin, auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        # A session opened through ProConnect ends at the provider too (RP-initiated
        # logout): the ID token is read before the session is flushed.
        id_token = request.session.get(proconnect.ID_TOKEN_SESSION_KEY)
        response = super().post(request, *args, **kwargs)
        if id_token and proconnect.enabled():
            url = proconnect.end_session_url(request, id_token)
            if url:
                return HttpResponseRedirect(url)
        return response


class SignupView(PublicMixin, FormView):
    form_class = SignupForm
    template_name = "accounts/signup.html"
    success_url = reverse_lazy("accounts:signup_done")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("accounts:home")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        try:
            throttle.hit(("signup_ip", throttle.ip_key(self.request)))
        except throttle.Throttled as error:
            message = _(
                "Trop de comptes créés depuis cette connexion internet : votre compte n'est "
                "pas créé. Réessayez dans %(wait)s."
            ) % {"wait": error.wait}
            return throttle.refused(self, form, error, message)
        data = form.cleaned_data
        services.sign_up_candidate(
            email=data["email"],
            password=data["password1"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            job_title=data["job_title"],
            phone=data["phone"],
        )
        self.request.session["signup_email"] = data["email"]
        return super().form_valid(form)


class SignupDoneView(PublicMixin, TemplateView):
    template_name = "accounts/signup_done.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(email=self.request.session.get("signup_email"), **kwargs)


class VerifyEmailView(PublicMixin, TemplateView):
    template_name = "accounts/verify_failed.html"

    def get(self, request, *args, **kwargs):
        user = services.verify_email(kwargs["uidb64"], kwargs["token"])
        if user is None:
            return self.render_to_response(self.get_context_data(), status=400)
        messages.success(
            request, _("Votre adresse électronique est vérifiée. Vous pouvez vous connecter.")
        )
        if request.user.is_authenticated:
            return redirect("accounts:home")
        return redirect("accounts:login")


class HomeView(RuleMixin, RedirectView):
    """Where each role lands after logging in."""

    rule = staticmethod(rules.is_authenticated)

    def get_redirect_url(self, *args, **kwargs):
        user = self.request.user
        if rules.is_instructeur(user):
            return reverse("aap:backoffice_calls")
        if rules.is_candidat(user):
            return reverse("candidatures:my_dossiers")
        if rules.is_evaluator(user):
            return reverse("evaluation:my_evaluations")
        if rules.is_ddets_reader(user):
            return reverse("evaluation:rankings")
        return reverse("accounts:profile")


class ProfileView(RuleMixin, UpdateView):
    rule = staticmethod(rules.is_authenticated)
    form_class = ProfileForm
    template_name = "accounts/profile.html"
    success_url = reverse_lazy("accounts:profile")

    def get_object(self, queryset=None):
        return self.request.user

    def get_context_data(self, **kwargs):
        user = self.request.user
        enrolled = mfa.has_second_factor(user)
        return super().get_context_data(
            second_factor=enrolled,
            second_factor_mandatory=mfa.requires_second_factor(user),
            recovery_codes_left=mfa.recovery_codes_left(user) if enrolled else 0,
            **kwargs,
        )

    def form_valid(self, form):
        messages.success(self.request, _("Vos informations ont été enregistrées."))
        return super().form_valid(form)


class PasswordChangeView(RuleMixin, auth_views.PasswordChangeView):
    rule = staticmethod(rules.is_authenticated)
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        messages.success(self.request, _("Votre mot de passe a été modifié."))
        return super().form_valid(form)


class PasswordResetView(PublicMixin, auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # Counted per address typed, whether or not an account has it, so that the refusal
        # tells nothing about accounts either.
        try:
            throttle.hit(
                ("password_reset_address", normalise_email(form.cleaned_data["email"])),
                ("password_reset_ip", throttle.ip_key(self.request)),
            )
        except throttle.Throttled as error:
            message = _(
                "Trop de demandes pour cette adresse ou depuis cette connexion internet : "
                "aucun nouveau message n'est envoyé. Un lien reçu dans les dernières "
                "24 heures reste valable. Réessayez dans %(wait)s."
            ) % {"wait": error.wait}
            return throttle.refused(self, form, error, message)
        return super().form_valid(form)


class PasswordResetDoneView(PublicMixin, auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(PublicMixin, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        if user.email_verified_at is None:
            # Choosing a password from an e-mailed link proves the mailbox too.
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email_verified_at"])
        messages.success(self.request, _("Votre mot de passe est enregistré. Connectez-vous."))
        return response


class MyRemindersView(RuleMixin, TemplateView):
    """Every reminder the platform sent to the user, newest first."""

    rule = staticmethod(rules.is_authenticated)
    template_name = "accounts/reminders.html"

    def get_context_data(self, **kwargs):
        reminders = (
            Reminder.objects.sent_to(self.request.user)
            .select_related("email")
            .order_by("-created_at")[:200]
        )
        return super().get_context_data(reminders=reminders, kind_label=kind_label, **kwargs)


class CalendarView(RuleMixin, TemplateView):
    """The user's private calendar address: create it, see it, revoke it."""

    rule = staticmethod(rules.is_authenticated)
    template_name = "accounts/calendar.html"

    def get_context_data(self, **kwargs):
        feed = CalendarFeed.objects.filter(user=self.request.user).first()
        url = absolute_url("calendar_feed", token=feed.token) if feed else None
        return super().get_context_data(
            feed=feed, feed_url=url, events=events_for(self.request.user)[:20], **kwargs
        )

    def post(self, request, *args, **kwargs):
        CalendarFeed.objects.filter(user=request.user).delete()
        if request.POST.get("action") == "create":
            CalendarFeed.objects.create(user=request.user)
            messages.success(request, _("Votre adresse d'agenda privée est créée."))
        else:
            messages.success(
                request, _("L'adresse d'agenda est révoquée : elle ne donne plus accès à rien.")
            )
        return redirect("accounts:calendar")


@rule_required(rules.anyone, public=True)
def calendar_feed(request, token):
    """The feed itself: anyone with the private address reads it (no session)."""
    feed = get_object_or_404(
        CalendarFeed.objects.select_related("user"), token=token, user__is_active=True
    )
    # Private like every download (core.downloads): calendar applications poll on their
    # own schedule, and no shared cache may keep a person's agenda.
    return downloads.document(
        to_ics(feed.user), "appels-a-projets.ics", "text/calendar; charset=utf-8", inline=True
    )


class ProConnectLoginView(PublicMixin, oidc_views.OIDCAuthenticationRequestView):
    """Sends the browser to ProConnect (state, nonce and PKCE kept in the session)."""

    get_settings = staticmethod(proconnect.oidc_setting)

    def __init__(self, **kwargs):
        # The library reads the endpoint here; it is read in get(), where a provider that
        # does not answer gets a French message.
        View.__init__(self, **kwargs)

    def get(self, request):
        if not proconnect.enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = proconnect.oidc_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except proconnect.Unavailable as error:
            logger.warning("ProConnect unavailable: %s", error)
            messages.error(request, PROCONNECT_UNAVAILABLE)
            return redirect("accounts:login")
        self.OIDC_RP_CLIENT_ID = settings.PROCONNECT_CLIENT_ID
        return super().get(request)


class ProConnectCallbackView(PublicMixin, oidc_views.OIDCAuthenticationCallbackView):
    """Where ProConnect sends the browser back: the library checks the state, the nonce and
    PKCE; a refusal lands on the login page with its French message."""

    get_settings = staticmethod(proconnect.oidc_setting)

    def get(self, request):
        if not proconnect.enabled():
            raise Http404
        try:
            return super().get(request)
        except proconnect.Refused as refusal:
            logger.info("ProConnect login refused: %s", refusal)
            messages.error(request, str(refusal))
        except SuspiciousOperation as error:
            # A state this session never sent (forged, replayed, or another browser's), a
            # nonce or signature that does not match: nothing is logged in.
            logger.warning("ProConnect callback refused: %s", error)
            messages.error(request, PROCONNECT_UNVERIFIED)
        except (requests.RequestException, proconnect.Unavailable) as error:
            logger.warning("ProConnect unavailable during the callback: %s", error)
            messages.error(request, PROCONNECT_UNAVAILABLE)
        return redirect("accounts:login")

    def login_failure(self):
        if self.request.GET.get("error"):
            refusal = _("La connexion avec ProConnect a été annulée ou refusée par ProConnect.")
        else:
            refusal = PROCONNECT_UNVERIFIED
        messages.error(self.request, refusal)
        return redirect("accounts:login")

    def login_success(self):
        response = super().login_success()
        claims = getattr(self.request, "proconnect_id_claims", {})
        if proconnect.is_multi_factor(claims):
            # The provider did the second factor: the platform's TOTP is not asked again.
            mfa.mark_verified(self.request, method="proconnect")
        return response

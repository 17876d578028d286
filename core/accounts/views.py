from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView, RedirectView, TemplateView, UpdateView

from core import downloads, rules
from core.accounts import services
from core.accounts.forms import LoginForm, PasswordResetForm, ProfileForm, SignupForm
from core.calendars import events_for, to_ics
from core.links import absolute_url
from core.models import CalendarFeed, Reminder
from core.permissions import PublicMixin, RuleMixin, rule_required
from core.reminders import kind_label


class LoginView(PublicMixin, auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(PublicMixin, auth_views.LogoutView):
    pass


class SignupView(PublicMixin, FormView):
    form_class = SignupForm
    template_name = "accounts/signup.html"
    success_url = reverse_lazy("accounts:signup_done")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("accounts:home")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
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
    response = downloads.document(
        to_ics(feed.user), "appels-a-projets.ics", "text/calendar; charset=utf-8", inline=True
    )
    response["Cache-Control"] = "private, max-age=300"
    return response

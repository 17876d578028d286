"""The pages of the second factor: the code after the password, the enrolment with its
QR code, the recovery codes shown once, and turning it off (candidates only)."""

import segno
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.generic import FormView, TemplateView

from core import rules
from core.accounts import mfa
from core.accounts.forms import SecondFactorCodeForm, SecondFactorEnrolmentForm
from core.permissions import RuleMixin


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("accounts:home")


class CheckedCode:
    """A code checked as a failed login would be: refused once django-axes locks the
    address out for this client, and each wrong one counted (throttled attempts, where
    nothing was checked, are not). On lockout the half-open session is closed."""

    def __init__(self, request):
        self.request = request
        self.credentials = {"username": request.user.email}

    def locked_out(self):
        logout(self.request)
        self.request.axes_locked_out = True
        return get_lockout_response(self.request, None, self.credentials)

    def is_allowed(self) -> bool:
        return AxesProxyHandler.is_allowed(self.request, self.credentials)

    def failed(self, error: mfa.SecondFactorError) -> bool:
        """Count the failure; True when it locked the address out."""
        if error.code == "throttled":
            return False
        user_login_failed.send(sender=__name__, credentials=self.credentials, request=self.request)
        return bool(getattr(self.request, "axes_locked_out", False))


class SecondFactorVerifyView(RuleMixin, FormView):
    """The code asked after the password."""

    rule = staticmethod(rules.is_authenticated)
    form_class = SecondFactorCodeForm
    template_name = "accounts/mfa_verify.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            step = mfa.pending_step(request)
            if step is None:
                return redirect(_next_url(request))
            if step == mfa.ENROL:
                return redirect("accounts:mfa_setup")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=_next_url(self.request), **kwargs)

    def form_valid(self, form):
        check = CheckedCode(self.request)
        if not check.is_allowed():
            return check.locked_out()
        user = self.request.user
        try:
            method = mfa.verify_code(user, form.cleaned_data["code"])
        except mfa.SecondFactorError as error:
            if check.failed(error):
                return check.locked_out()
            form.add_error("code", error.message)
            return self.form_invalid(form)
        mfa.mark_verified(self.request, method=method)
        if method == mfa.RECOVERY_METHOD:
            left = mfa.recovery_codes_left(user)
            messages.warning(
                self.request,
                ngettext(
                    "Vous avez utilisé un code de secours : il ne servira plus. Il vous en "
                    "reste %(count)d ; vous pouvez en générer de nouveaux depuis « Mon compte ».",
                    "Vous avez utilisé un code de secours : il ne servira plus. Il vous en "
                    "reste %(count)d ; vous pouvez en générer de nouveaux depuis « Mon compte ».",
                    left,
                )
                % {"count": left},
            )
        return redirect(_next_url(self.request))


class SecondFactorSetupView(RuleMixin, FormView):
    """Enrolment: a QR code (and its secret written out) for an authenticator
    application, confirmed by a first code."""

    rule = staticmethod(rules.is_authenticated)
    form_class = SecondFactorEnrolmentForm
    template_name = "accounts/mfa_setup.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and mfa.has_second_factor(request.user):
            if mfa.pending_step(request) == mfa.VERIFY:
                return redirect("accounts:mfa_verify")
            messages.info(request, _("La double authentification est déjà activée."))
            return redirect("accounts:profile")
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {"secret": mfa.new_enrolment_secret(self.request.user)}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        form = context["form"]
        try:
            key = mfa.secret_key(user, form["secret"].value())
        except mfa.SecondFactorError:
            signed = mfa.new_enrolment_secret(user)
            if form.is_bound:
                form.data = form.data.copy()
                form.data["secret"] = signed
            form.initial["secret"] = signed
            key = mfa.secret_key(user, signed)
        uri = mfa.provisioning_uri(user, key)
        context.update(
            qr_data_uri=segno.make(uri, error="m").svg_data_uri(scale=5, border=2),
            base32_secret=mfa.base32_secret(key),
            otpauth_uri=uri,
            mandatory=mfa.requires_second_factor(user),
            next=_next_url(self.request),
        )
        return context

    def form_valid(self, form):
        try:
            codes = mfa.confirm_enrolment(
                self.request.user,
                signed_secret=form.cleaned_data["secret"],
                code=form.cleaned_data["code"],
            )
        except mfa.SecondFactorError as error:
            if error.code == "already_enrolled":
                messages.info(self.request, error.message)
                return redirect("accounts:profile")
            form.add_error("code", error.message)
            return self.form_invalid(form)
        mfa.mark_verified(self.request, method=mfa.TOTP_METHOD)
        self.request.session[mfa.NEW_CODES_SESSION_KEY] = codes
        messages.success(self.request, _("La double authentification est activée."))
        url = reverse("accounts:mfa_recovery_codes")
        return redirect(f"{url}?next={_next_url(self.request)}")


class RecoveryCodesView(RuleMixin, TemplateView):
    """The recovery codes just made, shown this once; POST makes ten new ones."""

    rule = staticmethod(rules.is_authenticated)
    template_name = "accounts/mfa_recovery_codes.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            codes=self.request.session.pop(mfa.NEW_CODES_SESSION_KEY, None),
            codes_left=mfa.recovery_codes_left(user),
            enrolled=mfa.has_second_factor(user),
            next=_next_url(self.request),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        try:
            codes = mfa.renew_recovery_codes(request.user)
        except mfa.SecondFactorError as error:
            messages.error(request, error.message)
            return redirect("accounts:profile")
        request.session[mfa.NEW_CODES_SESSION_KEY] = codes
        messages.success(request, _("Dix nouveaux codes de secours remplacent les anciens."))
        return redirect("accounts:mfa_recovery_codes")


class SecondFactorDisableView(RuleMixin, FormView):
    """A candidate turns the second factor off with a current code."""

    rule = staticmethod(rules.may_turn_off_second_factor)
    form_class = SecondFactorCodeForm
    template_name = "accounts/mfa_disable.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not mfa.has_second_factor(request.user):
            return redirect("accounts:profile")
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        check = CheckedCode(self.request)
        if not check.is_allowed():
            return check.locked_out()
        try:
            mfa.disable(self.request.user, code=form.cleaned_data["code"])
        except mfa.SecondFactorError as error:
            if check.failed(error):
                return check.locked_out()
            form.add_error("code", error.message)
            return self.form_invalid(form)
        messages.success(self.request, _("La double authentification est désactivée."))
        return redirect("accounts:profile")

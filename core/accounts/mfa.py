"""Two-factor authentication: a TOTP application and ten single-use recovery codes
(django-otp's TOTP and static devices), mandatory for staff, optional for candidates.

A login is complete when the session is *verified*: the password, then a code (or an
enrolment for staff who have none yet), or a ProConnect login whose ID token says a
multi-factor authentication took place (``mark_verified``). Until then
``core.middleware.SecondFactorMiddleware`` sends the session to the step it misses.

Failed codes count as failed logins for django-axes (same address, same client): after
``AXES_FAILURE_LIMIT`` of them the session is closed and the account locked out for
``AXES_COOLOFF_TIME``. The failures are forgotten only when the whole login succeeds.
"""

import base64
import binascii
import re

from axes.helpers import get_client_ip_address
from axes.utils import reset as reset_axes_attempts
from django.contrib.auth.signals import user_logged_in
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from core import rules
from core.accounts.services import axes_username
from core.dates import format_datetime
from core.links import absolute_url
from core.mail import queue_email
from core.models import SecondFactorEvent, User

# The session's record of a passed second factor: {"user": pk, "method": ..., "at": ...}.
SESSION_KEY = "mfa_verified"
# What a password login left to do: "verify" (a code) or "enrol" (staff without a factor).
STEP_SESSION_KEY = "mfa_step"
# The recovery codes just made, shown once by the next page.
NEW_CODES_SESSION_KEY = "mfa_new_codes"

VERIFY, ENROL = "verify", "enrol"
RECOVERY_CODE_COUNT = 10
ENROLMENT_SALT = "core.accounts.mfa.enrolment"
ENROLMENT_MAX_AGE = 60 * 60  # a QR code shown an hour ago is still good to scan


class SecondFactorError(Exception):
    """A code refused or an act not allowed: the message is French, for the person."""

    def __init__(self, message, *, code="invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


# --- Who needs what --------------------------------------------------------------------------


def requires_second_factor(user) -> bool:
    """Every staff role, administrators and anyone with access to the Django admin."""
    return rules.second_factor_mandatory(user)


def totp_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user) -> bool:
    return user.is_authenticated and TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- The session -----------------------------------------------------------------------------


def is_verified(request) -> bool:
    record = request.session.get(SESSION_KEY)
    return bool(record) and record.get("user") == request.user.pk


def verification(request) -> dict | None:
    """How the session passed its second factor, or None."""
    return request.session.get(SESSION_KEY) if is_verified(request) else None


def pending_step(request) -> str | None:
    """What the logged-in session must still do before any other page: ``VERIFY``,
    ``ENROL`` or None."""
    user = request.user
    if not user.is_authenticated or is_verified(request):
        return None
    if request.session.get(STEP_SESSION_KEY) is None and not requires_second_factor(user):
        return None  # a candidate without a factor: no query on each page
    # The devices decide, not the login: a factor may have been reset since.
    if has_second_factor(user):
        return VERIFY
    return ENROL if requires_second_factor(user) else None


def mark_session_verified(session, user, *, method: str) -> None:
    session[SESSION_KEY] = {"user": user.pk, "method": method, "at": timezone.now().isoformat()}
    session.pop(STEP_SESSION_KEY, None)


def mark_verified(request, *, method: str) -> None:
    """Record that the session of ``request.user`` passed a second factor.

    Called by this module's views after a right code or an enrolment, and by a single
    sign-on after its own login: a ProConnect login calls it, right after
    ``django.contrib.auth.login``, **only** when its ID token says a multi-factor
    authentication took place (its ``acr`` or ``amr`` claims), with
    ``method="proconnect"``. Otherwise it does not call it, and the platform's code is
    asked as after a password.

    The session gets a new key (the privilege it carries changed) and the failed
    attempts that django-axes counted for this address and client are forgotten.
    """
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied("No user to mark verified.")
    mark_session_verified(request.session, user, method=method)
    request.session.cycle_key()
    _forget_failures(request, user)


def _forget_failures(request, user) -> None:
    reset_axes_attempts(
        ip=get_client_ip_address(request), username=axes_username(request, {"username": user.email})
    )


@receiver(user_logged_in, dispatch_uid="core.accounts.mfa.after_login")
def _after_login(sender, request, user, **kwargs):
    """A new login starts unverified; it is complete at once only for an account that
    has no second factor and needs none."""
    if request is None or not hasattr(request, "session"):
        return
    request.session.pop(SESSION_KEY, None)
    if has_second_factor(user):
        request.session[STEP_SESSION_KEY] = VERIFY
    elif requires_second_factor(user):
        request.session[STEP_SESSION_KEY] = ENROL
    else:
        request.session.pop(STEP_SESSION_KEY, None)
        _forget_failures(request, user)


# --- Enrolment -------------------------------------------------------------------------------


def new_enrolment_secret(user) -> str:
    """A fresh secret for an authenticator application, signed for this user so that
    the confirmation form cannot bring another one; nothing is stored before the code
    proves the application has it."""
    return signing.dumps({"user": user.pk, "key": random_hex(20)}, salt=ENROLMENT_SALT)


def secret_key(user, signed: str) -> str:
    """The hex key of a signed enrolment secret of ``user``."""
    try:
        data = signing.loads(signed, salt=ENROLMENT_SALT, max_age=ENROLMENT_MAX_AGE)
    except signing.BadSignature as error:
        raise SecondFactorError(
            _("Ce code QR a expiré : scannez le nouveau code affiché."), code="expired"
        ) from error
    if data.get("user") != user.pk:
        raise SecondFactorError(_("Ce code QR n'est pas le vôtre."), code="expired")
    return data["key"]


def base32_secret(hex_key: str) -> str:
    return base64.b32encode(binascii.unhexlify(hex_key)).decode()


def provisioning_uri(user, hex_key: str) -> str:
    """The ``otpauth://`` address an authenticator application reads from the QR code."""
    return TOTPDevice(user=user, key=hex_key).config_url


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _new_recovery_codes(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Codes de secours", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _locked(user) -> User:
    return User.objects.select_for_update().get(pk=user.pk)


def confirm_enrolment(user, *, signed_secret: str, code: str) -> list[str]:
    """Store the authenticator of ``user`` once a code from it matches the secret, with
    ten new recovery codes, returned to be shown once.

    Refused when the account already has a second factor (a half-logged-in session must
    not replace it), when the secret is not this user's or expired, and on a wrong code.
    """
    key = secret_key(user, signed_secret)
    with transaction.atomic():
        _locked(user)
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise SecondFactorError(
                _("La double authentification est déjà activée pour ce compte."),
                code="already_enrolled",
            )
        device = TOTPDevice(user=user, key=key, name="Application", confirmed=True)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        if not _normalise(code).isdigit() or not totp.verify(
            int(_normalise(code)), tolerance=device.tolerance
        ):
            raise SecondFactorError(
                _(
                    "Ce code ne correspond pas. Vérifiez l'heure de votre téléphone et "
                    "saisissez le code à 6 chiffres affiché en ce moment."
                )
            )
        device.last_t = totp.t()
        device.save()
        codes = _new_recovery_codes(user)
        SecondFactorEvent.objects.create(user=user, by=user, action=SecondFactorEvent.ENROLLED)
    return codes


# --- Verification ----------------------------------------------------------------------------

TOTP_METHOD, RECOVERY_METHOD = "totp", "recovery"


def verify_code(user, code: str) -> str:
    """Check a code typed after the password: six digits from the application, or one of
    the recovery codes, which is then used up. Returns the method that matched;
    raises ``SecondFactorError`` otherwise (``code="throttled"`` when django-otp asks to
    wait after failures in a row: nothing was checked then)."""
    typed = _normalise(code)
    with transaction.atomic():
        if re.fullmatch(r"\d{6}", typed):
            devices = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True)
            method = TOTP_METHOD
        else:
            devices = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True)
            method = RECOVERY_METHOD
        device = devices.first()
        if device is not None:
            allowed, _details = device.verify_is_allowed()
            if not allowed:
                raise SecondFactorError(
                    _("Trop d'essais rapprochés : attendez quelques secondes avant de réessayer."),
                    code="throttled",
                )
            if device.verify_token(typed):
                if method == RECOVERY_METHOD:
                    SecondFactorEvent.objects.create(
                        user=user, by=user, action=SecondFactorEvent.RECOVERY_CODE_USED
                    )
                return method
    raise SecondFactorError(
        _(
            "Code incorrect. Saisissez le code à 6 chiffres affiché par votre application, "
            "ou l'un de vos codes de secours."
        )
    )


# --- Changes ---------------------------------------------------------------------------------


def renew_recovery_codes(user) -> list[str]:
    """Ten new recovery codes in place of the old ones (all of them stop working)."""
    with transaction.atomic():
        _locked(user)
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise SecondFactorError(_("La double authentification n'est pas activée."))
        codes = _new_recovery_codes(user)
        SecondFactorEvent.objects.create(
            user=user, by=user, action=SecondFactorEvent.RECOVERY_CODES_RENEWED
        )
    return codes


def disable(user, *, code: str) -> None:
    """A candidate turns the second factor off, proving it with a current code. Staff
    cannot: theirs is mandatory (an administrator may reset it)."""
    if requires_second_factor(user):
        raise SecondFactorError(
            _("La double authentification est obligatoire pour les agents."), code="mandatory"
        )
    verify_code(user, code)
    with transaction.atomic():
        _locked(user)
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        SecondFactorEvent.objects.create(user=user, by=user, action=SecondFactorEvent.DISABLED)


def reset_second_factor(user, *, by) -> SecondFactorEvent:
    """An administrator removes the application and the recovery codes of ``user`` (a
    lost telephone): the next login asks for a new enrolment (staff) or for none
    (candidates). A session already verified keeps going until it ends. Writes the
    history row and e-mails the person."""
    if not (by.is_active and by.is_superuser):
        raise PermissionDenied("Only an administrator resets a second factor.")
    with transaction.atomic():
        _locked(user)
        if not (
            TOTPDevice.objects.filter(user=user).exists()
            or StaticDevice.objects.filter(user=user).exists()
        ):
            raise SecondFactorError(
                _("%(user)s n'a pas de double authentification à réinitialiser.")
                % {"user": user.email},
                code="nothing",
            )
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        event = SecondFactorEvent.objects.create(user=user, by=by, action=SecondFactorEvent.RESET)
        queue_email(
            to=user.email,
            template="second_factor_reset",
            context={
                "user": user,
                "by": by,
                "at": format_datetime(event.at),
                "login_url": absolute_url("accounts:login"),
                "mandatory": requires_second_factor(user),
            },
            key=f"second-factor-reset-{event.pk}",
            user=user,
        )
    return event


def forget_devices(user) -> None:
    """The account's TOTP secret and recovery codes deleted, when the account itself is
    eliminated (``retention``): nothing that could authenticate as it remains."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()

"""Sign-up, e-mail verification and staff invitations."""

from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from core.accounts.tokens import email_verification_token
from core.addresses import normalise_email
from core.links import absolute_url
from core.mail import queue_email
from core.models import User
from core.roles import Role

# At most one verification or notice e-mail per address in this many seconds.
RESEND_WINDOW_SECONDS = 600


def _window() -> int:
    return int(timezone.now().timestamp()) // RESEND_WINDOW_SECONDS


def sign_up_candidate(*, email, password, first_name, last_name, job_title="", phone=""):
    """Create a candidate account awaiting verification and send the link.

    When the address already has an account, nothing is created and its owner gets a
    notice instead, so that the form never tells a stranger which addresses exist.
    """
    email = normalise_email(email)
    existing = User.objects.filter(email__iexact=email).first()
    if existing is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=email,
                    password=password,
                    first_name=first_name.strip(),
                    last_name=last_name.strip(),
                    job_title=job_title.strip(),
                    phone=phone.strip(),
                )
                user.groups.add(Group.objects.get(name=Role.CANDIDAT))
                send_verification(user)
            return user
        except IntegrityError:
            # Two sign-ups with the same address at once: the other one won.
            existing = User.objects.get(email__iexact=email)
    queue_email(
        to=existing.email,
        template="account_exists",
        context={"user": existing, "login_url": absolute_url("accounts:login")},
        key=f"account-exists-{existing.pk}-{_window()}",
        user=existing,
    )
    return None


def verification_url(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = email_verification_token.make_token(user)
    return absolute_url("accounts:verify_email", uidb64=uid, token=token)


def send_verification(user):
    return queue_email(
        to=user.email,
        template="account_verification",
        context={"user": user, "url": verification_url(user)},
        key=f"verify-{user.pk}-{_window()}",
        user=user,
    )


def user_from_uid(uidb64: str) -> User | None:
    try:
        return User.objects.get(pk=int(urlsafe_base64_decode(uidb64).decode()))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None


def verify_email(uidb64: str, token: str) -> User | None:
    """Mark the address verified when the link is valid; return the user, else None."""
    user = user_from_uid(uidb64)
    # The token is checked even for a verified account: otherwise any forged link
    # would confirm that an account exists and redirect with its address.
    if user is None or not email_verification_token.check_token(user, token):
        return None
    if user.email_verified_at is None:
        user.email_verified_at = timezone.now()
        user.save(update_fields=["email_verified_at"])
    return user


def invite_staff(user):
    """E-mail a new staff member the link to choose a password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    url = absolute_url("accounts:password_reset_confirm", uidb64=uid, token=token)
    return queue_email(
        to=user.email,
        template="staff_invitation",
        context={"user": user, "url": url, "roles": sorted(user.role_names)},
        key=f"invite-{user.pk}-{_window()}",
        user=user,
    )


def axes_username(request, credentials):
    """Lockouts count per address whatever its case: ``AXES_USERNAME_CALLABLE``."""
    username = (credentials or {}).get("username") or request.POST.get("username") or ""
    return normalise_email(username)

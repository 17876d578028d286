"""Making, revoking and checking API tokens (``api.models.ApiToken``)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiToken, digest, new_raw_token
from candidatures.rules import can_read_all_dossiers
from core.exceptions import DomainError

# last_used_at is written at most this often per token: a busy script must not write on
# every call.
TOUCH_EVERY_SECONDS = 300


def may_hold_token(user) -> bool:
    """The screens' rule: instructeurs and the DDETS read every dossier; no one else."""
    return can_read_all_dossiers(user)


def create_token(user, *, label: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the raw value is returned once and never stored."""
    if not may_hold_token(user):
        raise DomainError(
            _("Seuls les instructeurs et la DDETS peuvent obtenir un jeton d'accès à l'API.")
        )
    raw = new_raw_token()
    token = ApiToken.objects.create(
        user=user, label=label.strip(), key_digest=digest(raw), key_start=raw[:10]
    )
    return token, raw


def revoke_token(token: ApiToken, *, by) -> None:
    with transaction.atomic():
        updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=by
        )
    if not updated:
        raise DomainError(_("Ce jeton est déjà révoqué."))


def user_of(raw: str):
    """The active user a raw token belongs to, or None (unknown, revoked, inactive user)."""
    token = (
        ApiToken.objects.active()
        .select_related("user")
        .filter(key_digest=digest(raw), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > (
        TOUCH_EVERY_SECONDS
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user

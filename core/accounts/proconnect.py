"""ProConnect (OpenID Connect) login for staff, through mozilla-django-oidc.

Off unless ``PROCONNECT_ENABLED``. The provider's endpoints come from its discovery
document (``<issuer>/.well-known/openid-configuration``), fetched when first needed and
kept in the cache. A ProConnect identity is matched to an existing account by its verified
e-mail; no account is created and roles stay managed in the platform. The library checks
state, nonce and PKCE; this module adds the issuer and audience of every token, the account
rules with their French refusals, and the decision whether the provider did a multi-factor
authentication.
"""

import hashlib
import json
import logging
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings

from core import rules
from core.addresses import normalise_email
from core.models import User

logger = logging.getLogger(__name__)

# Where mozilla-django-oidc keeps the ID token (OIDC_STORE_ID_TOKEN): the logout's hint.
ID_TOKEN_SESSION_KEY = "oidc_id_token"
DISCOVERY_CACHE_SECONDS = 60 * 60
ID_TOKEN_CLAIMS = json.dumps({"id_token": {"amr": {"essential": True}, "acr": None}})

_ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


class Unavailable(Exception):
    """The provider did not answer, or answered something that is not its discovery."""


class Refused(Exception):
    """A ProConnect identity that may not log in; the message is the French refusal."""


def enabled() -> bool:
    return settings.PROCONNECT_ENABLED


def metadata() -> dict:
    """The provider's discovery document, from the cache or fetched (short timeout)."""
    issuer = settings.PROCONNECT_ISSUER
    key = "proconnect:discovery:" + hashlib.sha256(issuer.encode()).hexdigest()
    data = cache.get(key)
    if data is None:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            response = requests.get(url, timeout=settings.PROCONNECT_TIMEOUT)
            response.raise_for_status()
            data = response.json()
        except (requests.RequestException, ValueError) as error:
            raise Unavailable(f"discovery {url}: {error}") from error
        # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer asked for.
        if not isinstance(data, dict) or data.get("issuer") != issuer:
            raise Unavailable(f"discovery {url} names another issuer")
        cache.set(key, data, DISCOVERY_CACHE_SECONDS)
    return data


def oidc_setting(attr, *default):
    """mozilla-django-oidc's settings, made from ours and from the discovery document."""
    if attr in _ENDPOINTS:
        value = metadata().get(_ENDPOINTS[attr])
        if not value:
            raise Unavailable(f"discovery has no {_ENDPOINTS[attr]}")
        return value
    fixed = {
        "OIDC_RP_CLIENT_ID": settings.PROCONNECT_CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": settings.PROCONNECT_CLIENT_SECRET,
        "OIDC_RP_SCOPES": settings.PROCONNECT_SCOPES,
        "OIDC_RP_SIGN_ALGO": settings.PROCONNECT_SIGN_ALGO,
        "OIDC_RP_IDP_SIGN_KEY": None,
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_STORE_ID_TOKEN": True,
        "OIDC_CREATE_USER": False,
        "OIDC_TIMEOUT": settings.PROCONNECT_TIMEOUT,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "accounts:proconnect_callback",
        "OIDC_REDIRECT_FIELD_NAME": "next",
        # acr and amr are put in the ID token only when asked for (ProConnect does the same):
        # they tell whether the provider did a second factor.
        "OIDC_AUTH_REQUEST_EXTRA_PARAMS": {"claims": ID_TOKEN_CLAIMS},
        "LOGIN_REDIRECT_URL_FAILURE": "accounts:login",
    }
    if attr in fixed:
        return fixed[attr]
    return import_from_settings(attr, *default)


def is_multi_factor(claims: dict) -> bool:
    """Whether the ID token says a multi-factor authentication happened: an ``acr`` among
    ``PROCONNECT_MFA_ACR_VALUES`` (eIDAS substantial or high), or ``mfa`` in ``amr``."""
    acr = claims.get("acr")
    if isinstance(acr, str) and acr in settings.PROCONNECT_MFA_ACR_VALUES:
        return True
    amr = claims.get("amr") or []
    if isinstance(amr, str):
        amr = [amr]
    return isinstance(amr, list) and "mfa" in amr


def _verified(claims: dict) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


def match_account(claims: dict) -> User:
    """The staff account whose address is the identity's verified e-mail, or ``Refused``."""
    email = normalise_email(claims.get("email") if isinstance(claims.get("email"), str) else "")
    if not email:
        raise Refused(_("ProConnect n'a pas transmis d'adresse électronique : connexion refusée."))
    if not _verified(claims):
        raise Refused(
            _(
                "ProConnect n'indique pas que l'adresse %(email)s est vérifiée : connexion "
                "refusée. Connectez-vous avec votre mot de passe, ou demandez à votre "
                "fournisseur d'identité de vérifier votre adresse."
            )
            % {"email": email}
        )
    user = User.objects.filter(email=email).first()
    if user is None:
        raise Refused(
            _(
                "Aucun compte de la plateforme n'a l'adresse %(email)s transmise par "
                "ProConnect. Les comptes des agents sont créés par un administrateur : "
                "demandez-lui d'ouvrir le vôtre avec cette adresse."
            )
            % {"email": email}
        )
    if not user.is_active:
        raise Refused(_("Ce compte est désactivé : connexion refusée."))
    if not rules.is_platform_staff(user):
        raise Refused(
            _(
                "La connexion avec ProConnect est réservée aux agents (instruction, "
                "évaluation, DDETS). Connectez-vous avec votre adresse et votre mot de passe."
            )
        )
    return user


class ProConnectBackend(OIDCAuthenticationBackend):
    """Answers only the ProConnect callback (its ``nonce`` argument); every other login
    (a password) passes through it untouched, without a network call."""

    get_settings = staticmethod(oidc_setting)

    def __init__(self, *args, **kwargs):
        # The library reads the endpoints here; Django builds every backend for every
        # login, so they are read only when a ProConnect callback is authenticated.
        self.UserModel = User

    def authenticate(self, request, **kwargs):
        if request is None or "nonce" not in kwargs or not enabled():
            return None
        for attr in (
            "OIDC_OP_TOKEN_ENDPOINT",
            "OIDC_OP_USER_ENDPOINT",
            "OIDC_OP_JWKS_ENDPOINT",
            "OIDC_RP_CLIENT_ID",
            "OIDC_RP_CLIENT_SECRET",
        ):
            setattr(self, attr, oidc_setting(attr))
        self.OIDC_RP_SIGN_ALGO = settings.PROCONNECT_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)  # signature, expiry, nonce
        # The library leaves these to us: a token another provider issued, or one issued
        # to another client, is not ours.
        if payload.get("iss") != settings.PROCONNECT_ISSUER:
            raise SuspiciousOperation("ProConnect token from another issuer")
        audience = payload.get("aud")
        audiences = [audience] if isinstance(audience, str) else audience or []
        if settings.PROCONNECT_CLIENT_ID not in audiences:
            raise SuspiciousOperation("ProConnect token for another client")
        if "nonce" in kwargs:
            self.request.proconnect_id_claims = payload
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        claims = self.get_userinfo(access_token, id_token, payload)
        # Refused propagates to the callback view: returning None would make Django count
        # a failed login, and django-axes lock out everyone behind the same address after
        # a few refusals, although the provider authenticated each person.
        user = match_account(claims)
        if user.email_verified_at is None:
            # The provider vouches for the mailbox, as a password chosen from our link does.
            user.email_verified_at = timezone.now()
            user.save(update_fields=["email_verified_at"])
        return user

    def get_user(self, user_id):
        user = super().get_user(user_id)
        return user if user is not None and user.is_active else None


def end_session_url(request, id_token: str) -> str | None:
    """The provider's logout address for this session (RP-initiated logout), or None."""
    try:
        endpoint = metadata().get("end_session_endpoint")
    except Unavailable as error:
        logger.warning("ProConnect logout left to the provider: %s", error)
        return None
    if not endpoint:
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": request.build_absolute_uri(
                resolve_url(settings.LOGOUT_REDIRECT_URL)
            ),
            "client_id": settings.PROCONNECT_CLIENT_ID,
        }
    )
    return f"{endpoint}?{query}"

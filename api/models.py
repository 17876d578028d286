"""Tokens that let staff read their calls' dossiers' metadata through the API.

The token is shown once, when it is made; only its SHA-256 is stored (a token is 256 random
bits: no salt or slow hash is needed to make a stolen table useless). A revoked token stays,
with who revoked it and when, so that the history of access keys is kept."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

PREFIX = "aap_"


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def new_raw_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    label = models.CharField(_("nom du jeton"), max_length=100)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, to tell tokens apart on the page without keeping the secret.
    key_start = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("jeton d'accès à l'API")
        verbose_name_plural = _("jetons d'accès à l'API")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.label} ({self.key_start}…)"

"""The second factor in tests (core.accounts.mfa): a staff account enrolled with a real
TOTP device, the code an authenticator application would show, and a test client whose
``force_login`` also completes the second step, as the person would after the password.

Tests that are about the second factor stop after the password with
``client.force_login(user, second_factor=False)`` or log in through the forms.
"""

import time

import pyotp
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.accounts import mfa


def enrol(user, *, key: str | None = None) -> TOTPDevice:
    """The user's confirmed TOTP device, created (with ``key``, hex) when missing."""
    device = mfa.totp_device(user)
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Application", confirmed=True, **({"key": key} if key else {})
        )
    return device


def base32(device: TOTPDevice) -> str:
    return mfa.base32_secret(device.key)


def code_now(device: TOTPDevice) -> str:
    """A code the device accepts now: the current time step, or the next one (within the
    device's tolerance) when the current one was already used (replay protection)."""
    device.refresh_from_db()
    totp = pyotp.TOTP(base32(device), interval=device.step)
    now_t = int(time.time() - device.t0) // device.step
    low = now_t + device.drift - device.tolerance
    for t in range(low, now_t + device.drift + device.tolerance + 1):
        if t > device.last_t:
            return totp.at(t * device.step + device.t0)
    raise AssertionError("Every code of the device's window was used: move the clock on.")


def complete_second_factor(client, user) -> None:
    """What the code page does once a right code is typed: the session is verified."""
    enrol(user)
    session = client.session
    mfa.mark_session_verified(session, user, method=mfa.TOTP_METHOD)
    session.save()


class SecondFactorClient(Client):
    def force_login(self, user, backend=None, *, second_factor=True):
        super().force_login(user, backend)
        if second_factor and (mfa.requires_second_factor(user) or mfa.has_second_factor(user)):
            complete_second_factor(self, user)

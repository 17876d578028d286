"""The demo stays usable with the second factor: its staff accounts are enrolled with the
fixed secrets of demo/seed.py, and `load_demo` prints them beside the accounts."""

import base64
import io

import pyotp
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from demo import seed
from demo.loader import load_demo


def test_demo_staff_are_enrolled_with_the_fixed_secrets_and_the_candidate_is_not(db):
    load_demo(with_accounts=True)

    devices = {
        device.user.email: base64.b32encode(bytes.fromhex(device.key)).decode()
        for device in TOTPDevice.objects.select_related("user").filter(confirmed=True)
    }
    assert devices == seed.DEMO_TOTP_SECRETS
    # A code computed from the printed secret is the one the platform accepts.
    device = TOTPDevice.objects.get(user__email="instructeur@demo.example")
    code = pyotp.TOTP(seed.DEMO_TOTP_SECRETS["instructeur@demo.example"]).now()
    assert device.verify_token(code)
    # Loading again adds nothing.
    load_demo(with_accounts=True)
    assert TOTPDevice.objects.count() == len(seed.DEMO_TOTP_SECRETS)


def test_load_demo_prints_each_secret_beside_its_account(db, settings):
    settings.DEBUG = True
    out = io.StringIO()

    call_command("load_demo", stdout=out)

    printed = out.getvalue()
    for email, secret in seed.DEMO_TOTP_SECRETS.items():
        assert f"clé {secret}" in printed
        assert (
            f"otpauth://totp/AAP%20Is%C3%A8re%3A{email.replace('@', '%40')}?secret={secret}"
            in printed
        )
    assert "pyotp.TOTP('CLÉ').now()" in printed

"""The second factor in a browser: an instructeur without one logs in, is sent to
enrolment, scans the QR code (pyotp computes the code, the clock frozen), keeps the
recovery codes and reaches the back-office; a later login asks for the code; a recovery
code works once."""

import datetime as dt
import re

import pyotp
import pytest
import time_machine
from playwright.sync_api import expect

from core.models import SecondFactorEvent
from core.roles import Role
from tests.browser.conftest import JOURNEY_INSTANT
from tests.browser.helpers import label, log_in, log_out
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

EMAIL = "ines.totp@isere.test"
ENROLLED_AT = JOURNEY_INSTANT + dt.timedelta(minutes=1)
NEXT_DAY = JOURNEY_INSTANT + dt.timedelta(days=1)
BACKOFFICE = re.compile(r"/gestion/appels/$")


def type_code(page, code):
    page.get_by_label(label("Code de vérification")).fill(code)
    page.get_by_role("button", name="Vérifier").click()


def test_an_instructeur_enrols_then_logs_in_with_a_code_and_a_recovery_code(page):
    instructeur = UserFactory(email=EMAIL, roles=[Role.INSTRUCTEUR])

    # First login: the password, then the enrolment before any staff page.
    with time_machine.travel(ENROLLED_AT, tick=False):
        log_in(page, EMAIL, second_factor=False)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Activer la double authentification"
        )
        page.goto("/gestion/appels/")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Activer la double authentification"
        )
        qr = page.get_by_role("img", name=re.compile("Code QR"))
        expect(qr).to_have_attribute("src", re.compile(r"^data:image/svg\+xml"))
        secret = page.locator("[data-otp-secret]").inner_text().strip()
        page.get_by_label(label("Code à 6 chiffres affiché par l'application")).fill(
            pyotp.TOTP(secret).now()
        )
        page.get_by_role("button", name="Activer").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Codes de secours")
        codes = page.locator("[data-recovery-codes] li").all_inner_texts()
        assert len(codes) == 10
        page.get_by_role("link", name="J'ai noté mes codes, continuer").click()
        expect(page).to_have_url(BACKOFFICE)
        expect(page.get_by_role("heading", level=1)).to_have_text("Gestion des appels à projets")
        log_out(page)

    # The next day: the code is asked after the password; a wrong one is refused.
    with time_machine.travel(NEXT_DAY, tick=False):
        log_in(page, EMAIL, second_factor=False)
        expect(page.get_by_role("heading", level=1)).to_have_text("Double authentification")
        page.goto("/gestion/appels/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Double authentification")
        type_code(page, "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
        expect(page.locator("#id_code_error")).to_contain_text("Code incorrect")
    with time_machine.travel(NEXT_DAY + dt.timedelta(seconds=5), tick=False):
        type_code(page, pyotp.TOTP(secret).now())
        expect(page).to_have_url(BACKOFFICE)
        log_out(page)

    # Without the telephone: a recovery code, once.
    with time_machine.travel(NEXT_DAY + dt.timedelta(hours=1), tick=False):
        log_in(page, EMAIL, second_factor=False)
        type_code(page, codes[0])
        expect(page).to_have_url(BACKOFFICE)
        expect(page.locator(".messages")).to_contain_text("Il vous en reste 9")
        log_out(page)
    with time_machine.travel(NEXT_DAY + dt.timedelta(hours=2), tick=False):
        log_in(page, EMAIL, second_factor=False)
        type_code(page, codes[0])
        expect(page.locator("#id_code_error")).to_contain_text("Code incorrect")
        expect(page.get_by_role("heading", level=1)).to_have_text("Double authentification")
    # django-otp asks to wait a moment after a failure.
    with time_machine.travel(NEXT_DAY + dt.timedelta(hours=2, seconds=5), tick=False):
        type_code(page, codes[1])
        expect(page).to_have_url(BACKOFFICE)

    assert list(
        SecondFactorEvent.objects.filter(user=instructeur).values_list("action", flat=True)
    ) == [
        SecondFactorEvent.ENROLLED,
        SecondFactorEvent.RECOVERY_CODE_USED,
        SecondFactorEvent.RECOVERY_CODE_USED,
    ]

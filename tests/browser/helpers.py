"""What several browser journeys do the same way: find a field by its label, sign up,
verify the address through the e-mail, log in and out, follow the main menu."""

import re

from django.core import mail
from playwright.sync_api import expect

from core.accounts import mfa
from core.models import User
from tests.factories import PASSWORD
from tests.mfa import code_now, enrol

# Playwright runs a Python pattern as a JavaScript regular expression, where \w and \b
# know ASCII letters only: "\w+" misses "décembre", "février" and "août". Dates are matched
# by naming the months (tests/browser/test_french_dates.py checks every month).
FRENCH_MONTHS = (
    "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
)
FRENCH_DATE = rf"\d{{1,2}} (?:{FRENCH_MONTHS}) \d{{4}}"
FRENCH_DATETIME = rf"{FRENCH_DATE} à \d{{2}}h\d{{2}}"
FRENCH_DATETIME_SECONDS = rf"{FRENCH_DATETIME} et \d{{2}} s"
SUBMITTED_MESSAGE = (
    rf"Votre dossier est déposé le {FRENCH_DATETIME_SECONDS}\. "
    r"Accusé de réception n° {number}, envoyé aussi par courriel\."
)


def submitted_message(number):
    """The message a candidate reads once the dossier is submitted, as a pattern."""
    return re.compile(SUBMITTED_MESSAGE.replace("{number}", re.escape(number)))


# Every input a person fills, except those nobody sees (CSRF token, formset counters).
UNLABELLED_FIELDS_JS = """
() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter((el) => el.type !== "hidden" && el.name !== "csrfmiddlewaretoken")
  .filter((el) => el.labels === null || el.labels.length === 0)
  .map((el) => el.name || el.id || el.outerHTML)
"""


def label(text):
    """A field's label as crispy-forms writes it: the text, then ``*`` when required."""
    return re.compile(rf"^\s*{re.escape(text)}\s*\*?\s*$")


def assert_every_field_labelled(page):
    assert page.evaluate(UNLABELLED_FIELDS_JS) == []


def log_in(page, email, password=PASSWORD, *, second_factor=True):
    """Log in through the form. An account that needs a second factor (staff) or has one
    is enrolled with a real device first when it has none, and the helper types the code
    its application would show now (tests/mfa.py), as a person does; journeys about the
    second factor pass ``second_factor=False`` to stop after the password."""
    user = User.objects.filter(email__iexact=email.strip()).first()
    device = None
    if (
        second_factor
        and user is not None
        and (mfa.requires_second_factor(user) or mfa.has_second_factor(user))
    ):
        device = enrol(user)
    page.goto("/compte/connexion/")
    page.get_by_label(label("Adresse électronique")).fill(email)
    page.get_by_label(label("Mot de passe")).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    if device is not None and "/compte/double-authentification/" in page.url:
        page.get_by_label(label("Code de vérification")).fill(code_now(device))
        page.get_by_role("button", name="Vérifier").click()
        page.wait_for_load_state()


def sign_up(page, *, first_name, last_name, email, password, job_title="", phone=""):
    """Fill the sign-up form as a person does, from ``/compte/inscription/``."""
    page.goto("/compte/inscription/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Créer un compte candidat")
    page.get_by_label(label("Prénom")).fill(first_name)
    page.get_by_label(label("Nom")).fill(last_name)
    page.get_by_label(label("Adresse électronique professionnelle")).fill(email)
    page.get_by_label(label("Fonction")).fill(job_title)
    page.get_by_label(label("Téléphone")).fill(phone)
    page.get_by_label(label("Mot de passe")).fill(password)
    page.get_by_label(label("Confirmation du mot de passe")).fill(password)
    page.get_by_label(
        re.compile(r"^\s*J'ai pris connaissance de la façon dont mes données")
    ).check()
    page.get_by_role("button", name="Créer mon compte").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre adresse électronique")


def follow_verification_link(page, email):
    """Open the link of the verification e-mail sent to ``email``."""
    sent = [message for message in mail.outbox if message.to == [email]]
    assert len(sent) == 1, [message.to for message in mail.outbox]
    link = re.search(r"https?://\S+/compte/verifier/\S+/", sent[0].body)
    assert link is not None, sent[0].body
    page.goto(link.group(0))
    expect(page.locator(".messages")).to_contain_text(
        "Votre adresse électronique est vérifiée. Vous pouvez vous connecter."
    )


def log_out(page):
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "button", name="Se déconnecter"
    ).click()
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()


def menu(page, name):
    page.get_by_role("navigation", name="Menu principal").get_by_role(
        "link", name=name, exact=True
    ).click()

"""E-mails in the terminal (``make run``): read as a person reads them, never base64."""

import io
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse

from demo import modeles

BACKEND = "core.mail_console.ConsoleEmailBackend"
BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{60,}")


def test_make_run_prints_e_mails_with_the_readable_backend():
    # config.settings as `make run` reads it: no EMAIL_URL, so the console.
    env = {k: v for k, v in os.environ.items() if k not in ("EMAIL_URL", "DJANGO_SETTINGS_MODULE")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; print(settings.EMAIL_BACKEND)",
        ],
        cwd=settings.BASE_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == BACKEND


def test_an_attachment_is_one_line_with_its_name_type_and_size():
    stream = io.StringIO()
    receipt = modeles.sample_pdf("Accusé de réception", ["AAP-2024-FCS-0007"] * 40)
    message = EmailMultiAlternatives(
        subject="[AAP Isère] Dossier déposé",
        body="Bonjour,\n\nVotre dossier est déposé.\n\nhttp://127.0.0.1:8001/candidatures/\n",
        from_email="ne-pas-repondre@aap.isere.fr",
        to=["camille@epci-exemple.test"],
        connection=get_connection(BACKEND, stream=stream),
    )
    message.attach_alternative("<p>Bonjour,</p>" * 50, "text/html")
    message.attach("AAP-2024-FCS-0007.pdf", receipt, "application/pdf")
    message.send()

    printed = stream.getvalue()
    [size] = re.findall(
        r"^  - AAP-2024-FCS-0007\.pdf \(application/pdf, (\d+,\d)\xa0Kio\)$", printed, re.M
    )
    assert abs(float(size.replace(",", ".")) - len(receipt) / 1024) < 0.1
    assert "Objet : [AAP Isère] Dossier déposé" in printed
    assert "À : camille@epci-exemple.test" in printed
    assert "Votre dossier est déposé." in printed
    assert "Version text/html aussi envoyée" in printed
    assert "<p>" not in printed  # the HTML part is not printed
    assert "%PDF" not in printed
    assert BASE64_RUN.search(printed) is None, printed


@pytest.mark.django_db
def test_the_verification_link_of_a_sign_up_stands_on_its_own_line(
    client, settings, capsys, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = BACKEND
    settings.SITE_URL = "http://127.0.0.1:8001"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:signup"),
            {
                "first_name": "Sacha",
                "last_name": "Martin",
                "email": "sacha.martin@asso-exemple.test",
                "password1": "Une-phrase-de-passe-solide",
                "password2": "Une-phrase-de-passe-solide",
                "accept_terms": "on",
            },
        )
    assert response.status_code == 302

    printed = capsys.readouterr().out
    links = re.findall(r"^  >>> (\S+)$", printed, re.MULTILINE)
    assert len(links) == 1, printed
    assert re.fullmatch(r"http://127\.0\.0\.1:8001/compte/verifier/\S+/", links[0])
    assert "Objet : [AAP Isère] Vérifiez votre adresse électronique" in printed
    assert "Content-Transfer-Encoding" not in printed

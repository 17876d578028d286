"""Text typed by people is text: help texts go through a Markdown subset and a
sanitiser; e-mail subjects are plain text without HTML entities."""

import pytest
from django.urls import reverse

from aap.models import Question
from candidatures.models import Candidature
from core.mail import render_email
from core.text import markdown_subset
from tests.factories import OrganisationFactory, as_draft, dossier_ready_call

HOSTILE_HELP = (
    '<meta http-equiv="refresh" content="0;url=https://attaquant.test/">'
    "Précisez <script>alert(1)</script> le **montant** en *euros* : "
    "[notice](https://www.isere.fr/notice) [piège](javascript:alert(1)) "
    '<a href="https://attaquant.test" onclick="alert(1)">lien</a>\n'
    "- une ligne\n- une autre"
)


def test_the_subset_keeps_its_formatting_and_nothing_else():
    html = str(markdown_subset(HOSTILE_HELP))

    assert "<strong>montant</strong>" in html
    assert "<em>euros</em>" in html
    assert (
        '<a href="https://www.isere.fr/notice" rel="noopener noreferrer nofollow">notice</a>'
        in html
    )
    assert "<ul>\n<li>une ligne</li>\n<li>une autre</li>\n</ul>" in html
    # Typed markup is shown as the characters typed, never as markup.
    assert "&lt;meta http-equiv" in html and "<meta" not in html
    assert "&lt;script&gt;" in html and "<script" not in html
    assert '&lt;a href="https://attaquant.test" onclick="alert(1)"&gt;lien&lt;/a&gt;' in html
    assert 'href="javascript' not in html


@pytest.mark.parametrize(
    "typed",
    [
        "[x](javascript:alert(1))",
        "[x](data:text/html,<b>)",
        "[x](vbscript:1)",
        "[x](ftp://a.test/)",
    ],
)
def test_links_go_only_to_http_pages(typed):
    assert "href" not in str(markdown_subset(typed))


def test_the_candidates_form_shows_the_help_as_text(client, candidate, db):
    call = dossier_ready_call()
    with as_draft(call):
        Question.objects.filter(call=call, label="Résumé du projet").update(help_text=HOSTILE_HELP)
    organisation = OrganisationFactory(members=[candidate])
    dossier = Candidature.objects.create(call=call, organisation=organisation, created_by=candidate)
    client.force_login(candidate)

    page = client.get(reverse("candidatures:answers", args=[dossier.pk])).content.decode()

    assert "<meta http-equiv" not in page
    assert "<script>alert" not in page
    assert '&lt;meta http-equiv="refresh"' in page
    assert "<strong>montant</strong>" in page
    assert 'href="https://www.isere.fr/notice"' in page


def test_an_email_subject_is_plain_text_without_entities(db):
    organisation = OrganisationFactory(name="L'Arche & <Cie>")

    subject, text, html = render_email(
        "organisation_invitation",
        {"organisation": organisation, "invited_by": None, "url": "https://aap.test/i", "days": 7},
    )

    assert subject.endswith("Invitation à rejoindre L'Arche & <Cie>")
    assert "&#x27;" not in subject and "&amp;" not in subject and "&lt;" not in subject
    assert "L'Arche & <Cie>" in text
    # The HTML alternative is still escaped.
    assert "L&#x27;Arche &amp; &lt;Cie&gt;" in html

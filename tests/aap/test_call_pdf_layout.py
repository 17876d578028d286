"""The public call's PDF, as the seed call prints it: tagged for screen readers (PDF/UA-1)
with its title and language, headings in order and tables with their header cells; no
criterion split from its weight across two pages, no page left (almost) empty at the end,
footers in the body's sans-serif font, and the expected start read once."""

import datetime as dt
import itertools
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from aap.models import Call
from tests.pdf import (
    catalog_language,
    page_texts,
    pdf_fonts,
    pdf_info,
    pdf_text,
    structure_types,
)

pytestmark = pytest.mark.django_db

INSTANT = dt.datetime(2024, 9, 2, 10, 0, tzinfo=dt.UTC)
FOOTER = re.compile(r"Page \d+ / \d+")


@pytest.fixture
def seed_call(time_machine):
    time_machine.move_to(INSTANT, tick=False)
    call_command("load_demo", no_accounts=True)
    return Call.objects.get(reference="AAP-2024-FCS")


@pytest.fixture
def content(seed_call, client):
    response = client.get(reverse("aap:call_pdf", args=[seed_call.slug]))
    assert response.status_code == 200
    return response.content


def test_the_call_pdf_is_tagged_with_its_title_and_language(seed_call, content):
    info = pdf_info(content)
    assert info["Tagged"] == "yes"
    assert info["Title"] == seed_call.title
    assert catalog_language(content) == "fr"
    tags = structure_types(content)
    headings = [int(tag[1]) for tag in tags if re.fullmatch(r"H\d", tag)]
    assert headings[0] == 1 and headings.count(1) == 1
    # Never a level skipped on the way down (H1 → H3 without an H2).
    assert all(after <= before + 1 for before, after in itertools.pairwise(headings))
    # Two tables (criteria, lots), each with its header cells.
    assert tags.count("Table") == 2
    assert tags.count("TH") >= 2 + 4


def test_no_criterion_is_split_from_its_weight_and_the_last_page_has_content(seed_call, content):
    pages = page_texts(content)
    criteria = list(seed_call.criteria.all())
    assert len(criteria) == 3
    for criterion in criteria:
        weight = f"{criterion.weight:.2f}".replace(".", ",") + " %"
        on = [number for number, text in enumerate(pages, 1) if criterion.title in text]
        assert len(on) == 1, (criterion.title, on)
        assert weight in pages[on[0] - 1], (criterion.title, weight)
        assert criterion.subcriteria.last().title in pages[on[0] - 1]
    # The table's header is printed on the page of its rows.
    assert "Critère et sous-critères Pondération" in pages[on[0] - 1]
    last = FOOTER.sub("", pages[-1]).strip()
    assert last, "the last page holds nothing but its footer"
    assert seed_call.contact_email in last or "Questions et réponses" in last


def test_footers_are_sans_serif_and_the_start_reads_once(seed_call, content):
    fonts = [font["name"] for font in pdf_fonts(content)]
    assert fonts and all("DejaVu-Sans" in name for name in fonts), fonts
    assert not any(re.search(r"serif|times", name, re.IGNORECASE) for name in fonts)
    text = pdf_text(content)
    assert "Démarrage : Démarrage" not in text
    assert text.count("Démarrage à envisager au plus tôt à l'automne 2024") == 1
    assert "Version du 2 septembre 2024 à 12h00." in text

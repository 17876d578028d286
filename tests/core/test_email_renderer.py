"""E-mails of a batch rendered once per shape (``core.mail.EmailRenderer``): each exactly
the message ``render_email`` gives alone, with fewer renderings."""

import copy
import datetime as dt
from decimal import Decimal

import pytest
from django.test.signals import template_rendered

from core.mail import EmailRenderer, render_email


@pytest.fixture
def renderings():
    """How many times each template file was rendered."""
    counts = {}

    def count(sender, template, **kwargs):
        counts[template.name] = counts.get(template.name, 0) + 1

    template_rendered.connect(count)
    yield counts
    template_rendered.disconnect(count)


def _draft(organisation, pk, days_left=2):
    return {
        "milestone": "J-2",
        "call_title": "Garde d'enfants & retour à l'emploi",
        "call_reference": "AAP-2031-07",
        "deadline": "17 mars 2031 à 17h00",
        "organisation": organisation,
        "days_left": days_left,
        "url": f"https://aap.isere.test/candidatures/dossiers/{pk}/?a=1&b=2",
    }


ORGANISATIONS = [
    "Commune de Vif",
    "L'Outil en main & Cie",
    'Association « <b>Les "Amis"</b> »',
    "Deux  espaces\net une ligne",
    "É" * 300,
]


def test_each_message_is_the_one_rendered_alone_with_one_rendering_per_shape(renderings):
    contexts = [_draft(name, pk) for pk, name in enumerate(ORGANISATIONS * 4, start=1)]
    contexts += [_draft("Commune de Vif", 99, days_left=0), _draft("Mairie", 100, days_left=0)]
    alone = [render_email("reminder_draft_deadline", copy.deepcopy(c)) for c in contexts]
    renderings.clear()
    renderer = EmailRenderer()
    assert [renderer.render("reminder_draft_deadline", c) for c in contexts] == alone
    # Two shapes (2 days left, the last day): the first e-mail of each alone, then the
    # shape with plain and rough markers; not 22 renderings.
    assert renderings["emails/reminder_draft_deadline/body.html"] == 6


def test_a_text_that_a_filter_changes_is_rendered_alone_for_each_message():
    # The HTML turns the reason's new lines into <br>: the rough markers show it.
    contexts = [
        {
            "call": {"title": "Tiers-lieux", "reference": "AAP-2031-02"},
            "reason": reason,
            "url": "https://aap.isere.test/appels/2/",
        }
        for reason in ("Budget non voté", "Budget non voté,\nappel reporté", "Autre <motif>")
    ]
    renderer = EmailRenderer()
    rendered = [renderer.render("call_abandoned", c) for c in contexts]
    assert rendered == [render_email("call_abandoned", c) for c in contexts]
    assert "Budget non voté,<br>appel reporté" in rendered[1][2]


def test_a_template_that_compares_a_text_is_rendered_alone_for_each_message(settings, tmp_path):
    folder = tmp_path / "emails" / "compared_status"
    folder.mkdir(parents=True)
    condition = '{% if status == "Envoyée" %}à signer{% else %}en préparation{% endif %}'
    for name in ("subject.txt", "body.txt", "body.html"):
        (folder / name).write_text(f"Convention {{{{ number }}}} {condition}")
    settings.TEMPLATES = [
        {**engine, "DIRS": [tmp_path, *engine["DIRS"]]} for engine in settings.TEMPLATES
    ]
    contexts = [
        {"number": number, "status": status}
        for number, status in (("C-1", "Brouillon"), ("C-2", "Brouillon"), ("C-3", "Envoyée"))
    ]
    renderer = EmailRenderer()
    rendered = [renderer.render("compared_status", c) for c in contexts]
    assert rendered == [render_email("compared_status", c) for c in contexts]
    assert rendered[2][1] == "Convention C-3 à signer"


def test_values_that_are_not_plain_data_are_rendered_alone():
    class Report:
        def __str__(self):
            return "Bilan final"

    contexts = [
        {
            "milestone": "J-3",
            "number": f"C-{n}",
            "report": Report(),
            "due_on": dt.date(2031, 3, 1),
            "late": False,
            "url": "https://aap.isere.test/conventions/1/",
        }
        for n in range(3)
    ]
    renderer = EmailRenderer()
    assert [renderer.render("reminder_report", c) for c in contexts] == [
        render_email("reminder_report", c) for c in contexts
    ]
    assert renderer.shapes == {}


def test_the_same_message_to_several_recipients_in_a_row_is_rendered_once(renderings):
    context = {
        "milestone": "J-10",
        "number": "C-2031-004",
        "beneficiary": "Commune de Vif",
        "label": "Solde",
        "amount": Decimal("12500.50"),
        "due_on": dt.date(2031, 3, 20),
        "url": "https://aap.isere.test/conventions/4/",
    }
    alone = render_email("reminder_instalment", context)
    renderings.clear()
    renderer = EmailRenderer()
    assert [renderer.render("reminder_instalment", dict(context)) for _ in range(3)] == [alone] * 3
    assert renderings["emails/reminder_instalment/body.html"] == 1

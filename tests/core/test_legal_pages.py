"""The legal pages: mentions légales, données personnelles, déclaration d'accessibilité and
plan du site. Their particulars come from the settings, they are open to everyone, every
footer and the sign-up consent link to them, and the statement shows the committed record
of the last axe-core run, which must cover the screens the accessibility test checks."""

import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils.formats import date_format

from core.legal import accessibility
from core.legal.retention import CATEGORIES, duration_in_words
from tests.browser.test_accessibility import AXE_OPTIONS, EXCLUDED, declared_screens
from tests.test_security import audit

NOTICE, PRIVACY, STATEMENT, SITEMAP = (
    "/mentions-legales/",
    "/donnees-personnelles/",
    "/accessibilite/",
    "/plan-du-site/",
)
LEGAL_PAGES = [NOTICE, PRIVACY, STATEMENT, SITEMAP]

# Values no default resembles, to tell a particular read from the settings from a word
# written in a template.
DISTINCT = {
    "LEGAL_PUBLISHER": "Collectivité de Zanzibar-sur-Isère",
    "LEGAL_PUBLISHER_ADDRESS": "12 allée des Tilleuls, 38999 Zanzibar",
    "LEGAL_PUBLISHER_PHONE": "01 23 45 67 89",
    "LEGAL_PUBLICATION_DIRECTOR": "Madame Ysolde Quintard, présidente",
    "LEGAL_SERVICE": "Service des essais éditoriaux",
    "LEGAL_CONTACT_EMAIL": "contact@zanzibar.test",
    "LEGAL_HOST_NAME": "Hébergeur Nuage-Quinze SAS",
    "LEGAL_HOST_ADDRESS": "3 quai des Serveurs, 69999 Lyon",
    "LEGAL_HOST_PHONE": "09 87 65 43 21",
    "LEGAL_DPO_NAME": "Maître Octave Parmentier",
    "LEGAL_DPO_EMAIL": "dpo@zanzibar.test",
    "LEGAL_DPO_ADDRESS": "DPO, BP 42, 38998 Zanzibar Cedex",
    "LEGAL_ACCESSIBILITY_EMAIL": "a11y@zanzibar.test",
}
# The defaults a page would show if it wrote them instead of reading the settings. (The
# DPO's default name, « Délégué à la protection des données », is also a heading.)
DEFAULTS = [
    "Fantin-Latour",
    "04 76 00 38 38",
    "Le Président du Département",
    "Direction du numérique",
    "dso.ive@isere.fr",
    "dpo@isere.fr",
]

PARTICULARS = {
    NOTICE: [
        "LEGAL_PUBLISHER",
        "LEGAL_PUBLISHER_ADDRESS",
        "LEGAL_PUBLISHER_PHONE",
        "LEGAL_PUBLICATION_DIRECTOR",
        "LEGAL_SERVICE",
        "LEGAL_CONTACT_EMAIL",
        "LEGAL_HOST_NAME",
        "LEGAL_HOST_ADDRESS",
        "LEGAL_HOST_PHONE",
    ],
    PRIVACY: [
        "LEGAL_PUBLISHER",
        "LEGAL_PUBLISHER_ADDRESS",
        "LEGAL_SERVICE",
        "LEGAL_CONTACT_EMAIL",
        "LEGAL_HOST_NAME",
        "LEGAL_DPO_NAME",
        "LEGAL_DPO_EMAIL",
        "LEGAL_DPO_ADDRESS",
    ],
    STATEMENT: [
        "LEGAL_PUBLISHER",
        "LEGAL_PUBLISHER_ADDRESS",
        "LEGAL_SERVICE",
        "LEGAL_ACCESSIBILITY_EMAIL",
    ],
}


class Links(HTMLParser):
    """The ``href`` of every link, and of the links inside ``<footer>``."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.all, self.footer, self._in_footer = [], [], False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "footer":
            self._in_footer = True
        elif tag == "a" and dict(attrs).get("href"):
            self.all.append(dict(attrs)["href"])
            if self._in_footer:
                self.footer.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag == "footer":
            self._in_footer = False


def text(response):
    """The page as one line of text, tags removed: a sentence split by a tag still reads."""
    html = response.content.decode()
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- Particulars from the settings ------------------------------------------------------------


@pytest.mark.parametrize("path", list(PARTICULARS))
def test_each_legal_page_prints_its_particulars_from_the_settings(db, client, path):
    with override_settings(**DISTINCT, SITE_URL="https://aap.zanzibar.test"):
        response = client.get(path)
    assert response.status_code == 200
    page = text(response)
    for name in PARTICULARS[path]:
        assert DISTINCT[name] in page, (path, name)
    for default in DEFAULTS:
        assert default not in page, (path, default)
    if path == STATEMENT:
        assert "https://aap.zanzibar.test" in page


def test_the_particulars_are_links_where_they_are_addresses(db, client):
    with override_settings(**DISTINCT):
        notice, privacy, statement = (client.get(path) for path in (NOTICE, PRIVACY, STATEMENT))
    assert "mailto:contact@zanzibar.test" in Links(notice.content.decode()).all
    assert "mailto:dpo@zanzibar.test" in Links(privacy.content.decode()).all
    assert "mailto:a11y@zanzibar.test" in Links(statement.content.decode()).all


# --- Données personnelles ---------------------------------------------------------------------


def test_every_retention_category_of_the_settings_is_described():
    assert set(CATEGORIES) == set(settings.RETENTION_DAYS)


@pytest.mark.parametrize(
    ("days", "words"),
    [
        (1, "1 jour"),
        (10, "10 jours"),
        (30, "1 mois"),
        (90, "3 mois"),
        (180, "6 mois"),
        (365, "1 an"),
        (400, "1 an et 1 mois"),
        (548, "1 an et 6 mois"),
        (3 * 365, "3 ans"),
        (5 * 365, "5 ans"),
        (10 * 365, "10 ans"),
    ],
)
def test_a_period_in_days_reads_in_years_and_months(days, words):
    assert duration_in_words(days) == words


def test_the_privacy_page_shows_each_retention_period_from_the_settings(db, client):
    periods = {
        "not_selected": (7 * 365, "7 ans"),
        "selected": (11 * 365, "11 ans"),
        "inactive_account": (548, "1 an et 6 mois"),
        "reading_log": (180, "6 mois"),
        "outbox": (90, "3 mois"),
    }
    with override_settings(
        RETENTION_DAYS={key: days for key, (days, _words) in periods.items()},
        RETENTION_ACCOUNT_WARNING_DAYS=45,
    ):
        response = client.get(PRIVACY)
    html = response.content.decode()
    rows = dict(re.findall(r'<tr data-category="(\w+)">(.*?)</tr>', html, re.DOTALL))
    assert list(rows) == list(CATEGORIES)
    for key, (_days, words) in periods.items():
        what, period, start = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", rows[key], re.DOTALL)
        assert period == words, key
        assert unescape(what) == str(CATEGORIES[key][0])
        assert unescape(start) == str(CATEGORIES[key][1])
    page = text(response)
    assert "5 ans" not in page and "10 ans" not in page  # the defaults
    assert "prévenu par courriel 45 jours avant sa suppression" in page


def test_the_privacy_page_states_what_article_13_requires(db, client):
    page = text(client.get(PRIVACY))
    for words in [
        "mission d'intérêt public",
        "article 6, paragraphe 1, point e du RGPD",
        "Instruire les candidatures aux appels à projets",
        "Suivre les conventions de partenariat",
        "Publier les subventions attribuées en données ouvertes",
        "Service Insertion Vers l'Emploi",  # the default LEGAL_SERVICE: the IVE instructs
        "évaluateurs désignés",
        "(DDETS)",
        "Le public, pour les subventions attribuées",
        "nom et SIRET de la structure, objet, montant",
        "Aucune donnée n'est transférée hors de l'Union européenne",
        "Aucune décision n'est prise de façon automatisée",
        "accéder aux données",
        "les faire rectifier",
        "la limitation",
        "vous opposer",
        "Le droit à l'effacement est limité",
        "CNIL, 3 place de Fontenoy, TSA 80715, 75334 Paris CEDEX 07",
    ]:
        assert words in page, words
    assert "https://www.cnil.fr/fr/plaintes" in Links(client.get(PRIVACY).content.decode()).all


# --- The sign-up consent and the footer ---------------------------------------------------------


def test_the_sign_up_consent_box_links_to_the_privacy_page(db, client):
    html = client.get(reverse("accounts:signup")).content.decode()
    box = re.search(r'<input type="checkbox" name="accept_terms"[^>]*>', html).group(0)
    described_by = re.search(r'aria-describedby="([^"]+)"', box).group(1)
    help_text = re.search(rf'id="{described_by}"[^>]*>(.*?)</div>', html, re.DOTALL).group(1)
    link = re.search(
        r'<a href="([^"]+)" target="_blank" rel="noopener"[^>]*>([^<]+)</a>', help_text
    )
    assert link.group(1) == PRIVACY
    # A link that opens a new tab says so (RGAA 13.2).
    assert link.group(2) == "Données personnelles (nouvel onglet)"
    assert client.get(link.group(1)).status_code == 200


@pytest.mark.parametrize(
    ("persona", "path"),
    [
        (None, "/"),
        (None, "/appels/"),
        ("candidate", "/candidatures/"),
        ("instructeur", "/gestion/appels/"),
        ("evaluator", "/evaluations/"),
        ("ddets_reader", "/gestion/classements/"),
    ],
)
def test_every_footer_links_the_four_legal_pages(db, request, client_for, persona, path):
    user = request.getfixturevalue(persona) if persona else None
    response = client_for(user).get(path)
    assert response.status_code == 200
    assert Links(response.content.decode()).footer == LEGAL_PAGES
    footer = re.search(r"<footer.*</footer>", response.content.decode(), re.DOTALL).group(0)
    assert "Accessibilité : non conforme" in footer
    assert "partiellement" not in footer


@pytest.mark.parametrize("path", [*LEGAL_PAGES, "/compte/inscription/"])
def test_legal_pages_are_open_to_anonymous_visitors_and_need_no_inline_code(db, client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert audit(response).blocked == []


# --- Plan du site -------------------------------------------------------------------------------

PERSONAS = [None, "candidate", "instructeur", "evaluator", "ddets_reader", "admin_user"]
# What each persona's plan must offer, and what it must not.
OFFERED = {
    None: (
        ["/appels/", "/compte/connexion/", "/compte/inscription/"],
        ["/compte/", "/candidatures/"],
    ),
    "candidate": (
        ["/candidatures/", "/candidatures/conventions/", "/compte/"],
        ["/gestion/appels/"],
    ),
    "instructeur": (
        ["/gestion/appels/", "/gestion/appels/nouveau/", "/gestion/classements/"],
        ["/candidatures/", "/evaluations/"],
    ),
    "evaluator": (["/evaluations/"], ["/gestion/appels/", "/candidatures/"]),
    "ddets_reader": (
        ["/gestion/classements/", "/gestion/conventions/"],
        ["/gestion/appels/", "/gestion/appels/nouveau/"],
    ),
    "admin_user": (["/admin/", "/gestion/appels/"], ["/candidatures/"]),
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_link_of_the_site_plan_answers(db, request, client_for, persona):
    user = request.getfixturevalue(persona) if persona else None
    client = client_for(user)
    response = client.get(SITEMAP)
    assert response.status_code == 200
    section = re.search(r"<div[^>]*data-sitemap>(.*?)</div>", response.content.decode(), re.DOTALL)
    plan = Links(section.group(1)).all
    offered, refused = OFFERED[persona]
    assert set(offered) <= set(plan), plan
    assert not set(refused) & set(plan), plan
    assert set(LEGAL_PAGES) <= set(plan)
    # Every link of the page (menu and footer too) leads to a page, for this persona.
    for href in set(Links(response.content.decode()).all):
        if href.startswith("/"):
            assert client.get(href).status_code == 200, (persona, href)


# --- Déclaration d'accessibilité ---------------------------------------------------------------


def test_the_statement_says_non_conforme_and_the_recourse(db, client):
    page = text(client.get(STATEMENT))
    assert "est non conforme avec le référentiel général d'amélioration de l'accessibilité" in page
    assert "aucun audit de conformité n'a encore été réalisé" in page
    assert "partiellement conforme" not in page
    assert "Défenseur des droits, Libre réponse 71120, 75342 Paris CEDEX 07" in page
    assert "Dérogations pour charge disproportionnée" in page
    for known in ["Aucun contrôle manuel", "documents PDF", "graphiques"]:
        assert known in page, known
    links = Links(client.get(STATEMENT).content.decode()).all
    assert "https://formulaire.defenseurdesdroits.fr/" in links
    assert "https://www.defenseurdesdroits.fr/saisir/delegues" in links


def test_the_statement_shows_the_committed_axe_run(db, client):
    record = json.loads(accessibility.RECORD_PATH.read_text(encoding="utf-8"))
    html = client.get(STATEMENT).content.decode()
    page = text(client.get(STATEMENT))
    last = max(run["checked_on"] for run in record["personas"].values())
    assert (
        f"Le {date_format(accessibility.read().checked_on[-1], 'j F Y')}, l'outil axe-core" in page
    )
    assert accessibility.read().checked_on[-1].isoformat() == last
    for run in record["personas"].values():
        assert f"version {run['axe_version']}" in page
        assert run["browser"] in page
        for checked in run["pages"]:
            assert checked["name"][:1].upper() + checked["name"][1:] in unescape(html)
    pages = sum(len(run["pages"]) for run in record["personas"].values())
    assert f"a vérifié {pages} pages de la plateforme" in page
    # Numbers of objects are not shown: they belong to the database of the run.
    assert "<code>/candidatures/dossiers/…/</code>" in html


def test_the_statement_shows_errors_found_and_an_older_persona_run(
    db, client, tmp_path, monkeypatch
):
    record = tmp_path / "axe-run.json"
    record.write_text(
        json.dumps(
            {
                "tags": ["wcag2a"],
                "excluded": [],
                "personas": {
                    "visiteur": {
                        "checked_on": "2026-03-02",
                        "axe_version": "4.12.1",
                        "browser": "Chromium 140",
                        "pages": [
                            {
                                "name": "accueil",
                                "path": "/",
                                "route": "/",
                                "violations": {"color-contrast": 3},
                            }
                        ],
                    },
                    "candidat": {
                        "checked_on": "2026-02-17",
                        "axe_version": "4.12.1",
                        "browser": "Chromium 140",
                        "pages": [
                            {
                                "name": "dossier déposé",
                                "path": "/candidatures/dossiers/42/",
                                "route": "/candidatures/dossiers/<int:pk>/",
                                "violations": {},
                            }
                        ],
                    },
                },
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setattr(accessibility, "RECORD_PATH", record)
    page = text(client.get(STATEMENT))
    assert "Le 2 mars 2026, l'outil axe-core (version 4.12.1) a vérifié 2 pages" in page
    assert "Certains profils ont été vérifiés pour la dernière fois le 17 février 2026" in page
    assert "Il a relevé 1 erreur, détaillée ci-dessous" in page
    assert "color-contrast (3)" in page
    assert "/candidatures/dossiers/…/" in page and "/42/" not in page
    # The visitor's table comes first, as in the test, whatever the file's order.
    assert page.index("Visiteur sans compte") < page.index("Candidat (porteur de projet)")


def test_the_statement_without_a_record_says_so(db, client, tmp_path, monkeypatch):
    monkeypatch.setattr(accessibility, "RECORD_PATH", tmp_path / "none.json")
    page = text(client.get(STATEMENT))
    assert "Aucun contrôle automatique n'a encore été enregistré" in page
    assert "est non conforme" in page


def test_the_committed_axe_record_covers_exactly_the_screens_the_accessibility_test_checks():
    """Refresh the record with
    ``AXE_RECORD=1 .venv/bin/python -m pytest tests/browser/test_accessibility.py``
    then commit ``core/legal/axe-run.json``."""
    record = json.loads(accessibility.RECORD_PATH.read_text(encoding="utf-8"))
    recorded = {
        persona: [(page["name"], page["route"]) for page in run["pages"]]
        for persona, run in record["personas"].items()
    }
    assert recorded == declared_screens(), (
        "core/legal/axe-run.json ne couvre plus les écrans de tests/browser/"
        "test_accessibility.py : relancer ce test avec AXE_RECORD=1 et valider le fichier."
    )
    assert record["tags"] == AXE_OPTIONS["runOnly"]["values"]
    assert record["excluded"] == sorted(f"{rule} {target}" for rule, target in EXCLUDED)

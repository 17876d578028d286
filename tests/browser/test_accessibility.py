"""axe-core on the main screens of each persona, against the WCAG 2.0 and 2.1 rules of
levels A and AA (those the RGAA 4.1 follows): no audit has been made (the statement says
« non conforme »), and these screens at least must not regress.

One browser context per persona: every screen is visited and checked, then the test fails
once with every violation found, screen by screen.

With ``AXE_RECORD=1``, each persona also writes what it checked and found into the record
the accessibility statement shows (``tests/browser/axe_record.py``); a test of the legal
pages fails when that record no longer covers exactly the screens listed here."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from aap.models import Call
from candidatures.models import Candidature, Organisation
from candidatures.services import start_candidature
from conventions.models import Convention
from core.models import User
from demo import seed
from demo.loader import load_demo
from evaluation.models import Assignment
from tests.browser import axe_record
from tests.browser.helpers import log_in

pytestmark = pytest.mark.browser

# Injected through page.evaluate (the DevTools protocol), which the page's CSP does not
# govern: no bypass_csp is needed, and the CSP check of the ``page`` fixture stays on.
AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
# (rule id, target selector) → why it cannot be fixed here. Keep it empty if possible.
EXCLUDED = {}


def _public(data):
    return [
        ("accueil", "/"),
        ("liste des appels", "/appels/"),
        ("appel 2024", f"/appels/{seed.SLUG}/"),
        ("appel ouvert", f"/appels/{seed.DEMO_SLUG}/"),
        ("appel décidé", f"/appels/{seed.CONVENTION_SLUG}/"),
        ("question sur l'appel", f"/appels/{seed.DEMO_SLUG}/question/"),
        ("connexion", "/compte/connexion/"),
        ("inscription", "/compte/inscription/"),
        ("mentions légales", "/mentions-legales/"),
        ("données personnelles", "/donnees-personnelles/"),
        ("déclaration d'accessibilité", "/accessibilite/"),
        ("plan du site", "/plan-du-site/"),
    ]


def _candidat(data):
    # The start page shows its button only while the organisation has no dossier there: the
    # draft is started after it is checked, as the candidate does with that button.
    return [
        ("mes dossiers", "/candidatures/"),
        ("mon compte", "/compte/"),
        ("ma structure", f"/candidatures/structures/{data['submitted'].organisation_id}/"),
        ("mes conventions", "/candidatures/conventions/"),
        ("ma convention", f"/candidatures/conventions/{data['own_convention'].pk}/"),
        (
            "indicateurs de ma convention",
            f"/candidatures/conventions/{data['own_convention'].pk}/indicateurs/",
        ),
        ("candidater à l'appel ouvert", f"/candidatures/appels/{seed.DEMO_SLUG}/"),
        ("dossier en brouillon", lambda: f"/candidatures/dossiers/{_draft(data).pk}/"),
        ("formulaire du dossier", lambda: f"/candidatures/dossiers/{_draft(data).pk}/formulaire/"),
        ("pièces du dossier", lambda: f"/candidatures/dossiers/{_draft(data).pk}/pieces/"),
        ("aperçu du dossier", lambda: f"/candidatures/dossiers/{_draft(data).pk}/apercu/"),
        ("dossier déposé", f"/candidatures/dossiers/{data['submitted'].pk}/"),
        ("plan du site (candidat)", "/plan-du-site/"),
    ]


def _draft(data):
    if "draft" not in data:
        candidate = User.objects.get(email="candidat@demo.example")
        organisation = Organisation.objects.of_member(candidate).order_by("pk").first()
        demo_call = Call.objects.get(reference=seed.DEMO_REFERENCE)
        data["draft"] = start_candidature(demo_call, organisation, by=candidate)
    return data["draft"]


def _instructeur(data):
    call, dossier = data["review_call"], data["submitted"]
    return [
        ("gestion des appels", "/gestion/appels/"),
        ("nouvel appel", "/gestion/appels/nouveau/"),
        ("appel en gestion", f"/gestion/appels/{call.pk}/"),
        # Only a call not yet closed has texts that may change.
        ("modifier l'appel", f"/gestion/appels/{data['demo_call'].pk}/modifier/"),
        ("lots de l'appel", f"/gestion/appels/{call.pk}/lots/"),
        ("critères de l'appel", f"/gestion/appels/{call.pk}/criteres/"),
        ("formulaire de l'appel", f"/gestion/appels/{call.pk}/formulaire/"),
        ("pièces de l'appel", f"/gestion/appels/{call.pk}/pieces/"),
        ("questions reçues", f"/gestion/appels/{call.pk}/questions/"),
        ("rappels", f"/gestion/appels/{call.pk}/rappels/"),
        ("grille d'évaluation", f"/gestion/appels/{call.pk}/grille/"),
        ("dossiers de l'appel", f"/gestion/appels/{call.pk}/dossiers/"),
        ("dossier (gestion)", f"/gestion/dossiers/{dossier.pk}/"),
        ("évaluations du dossier", f"/gestion/dossiers/{dossier.pk}/evaluations/"),
        ("recevabilité", f"/gestion/appels/{call.pk}/recevabilite/"),
        ("décision de recevabilité", f"/gestion/dossiers/{dossier.pk}/recevabilite/"),
        ("affectations", f"/gestion/appels/{call.pk}/affectations/"),
        ("classement", f"/gestion/appels/{call.pk}/classement/{data['lot'].pk}/"),
        ("conventions", "/gestion/conventions/"),
        ("convention (gestion)", f"/gestion/conventions/{data['own_convention'].pk}/"),
        ("indicateurs", f"/gestion/appels/{call.pk}/indicateurs/"),
        ("indicateurs renseignés", f"/gestion/appels/{data['convention_call'].pk}/indicateurs/"),
    ]


def _evaluateur(data):
    return [
        ("mes évaluations", "/evaluations/"),
        ("déclaration d'intérêts", f"/evaluations/{data['to_declare'].pk}/declaration/"),
        ("grille de notation", f"/evaluations/{data['to_score'].pk}/"),
    ]


def _ddets(data):
    call, dossier = data["review_call"], data["submitted"]
    return [
        ("classements", "/gestion/classements/"),
        ("classement", f"/gestion/appels/{call.pk}/classement/{data['lot'].pk}/"),
        ("dossier (gestion)", f"/gestion/dossiers/{dossier.pk}/"),
        ("évaluations du dossier", f"/gestion/dossiers/{dossier.pk}/evaluations/"),
        ("conventions", "/gestion/conventions/"),
        ("convention (DDETS)", f"/gestion/conventions/{data['own_convention'].pk}/"),
    ]


PERSONAS = {
    "visiteur": (None, _public),
    "candidat": ("candidat@demo.example", _candidat),
    "instructeur": ("instructeur@demo.example", _instructeur),
    "evaluateur": ("evaluateur@demo.example", _evaluateur),
    "ddets": ("ddets@demo.example", _ddets),
}


def _demo_data():
    load_demo(with_accounts=True)
    evaluator = User.objects.get(email="evaluateur@demo.example")
    review_call = Call.objects.get(reference=seed.REVIEW_REFERENCE)
    submitted = (
        Candidature.objects.filter(call=review_call, assignments__evaluator=evaluator)
        .order_by("pk")
        .first()
    )
    assignments = Assignment.objects.filter(
        evaluator=evaluator, candidature__call=review_call
    ).order_by("pk")
    candidate = User.objects.get(email="candidat@demo.example")
    return {
        "convention_call": Call.objects.get(reference=seed.CONVENTION_REFERENCE),
        # The running agreement of the demo candidate's organisation.
        "own_convention": Convention.objects.of_member(candidate).get(),
        "review_call": review_call,
        "demo_call": Call.objects.get(reference=seed.DEMO_REFERENCE),
        "lot": review_call.lots.order_by("position").first(),
        "submitted": submitted,
        "to_declare": assignments.filter(declared_at__isnull=True).first(),
        "to_score": assignments.filter(declared_at__isnull=False).first(),
    }


def _violations(page):
    """The violations of the page, less the documented exclusions: readable lines, the
    number of elements per rule, and the version of axe-core that ran."""
    # axe skips what is hidden: the folded <details> (history, reopening forms) are opened.
    page.evaluate("document.querySelectorAll('details').forEach((el) => { el.open = true; })")
    response = AXE.run(page, options=AXE_OPTIONS).response
    lines, counts = [], {}
    for violation in response["violations"]:
        targets = [
            " ".join(map(str, node["target"]))
            for node in violation["nodes"]
            if (violation["id"], " ".join(map(str, node["target"]))) not in EXCLUDED
        ]
        if targets:
            counts[violation["id"]] = len(targets)
            lines.append(
                f"  [{violation['id']}] ({violation['impact']}) {violation['help']}\n"
                + "".join(f"      {target}\n" for target in targets)
            )
    return lines, counts, response["testEngine"]["version"]


class _AnyObject:
    """Stands for any object of the data: its every number is 0."""

    def __getattr__(self, name):
        return 0


class _AnyData(dict):
    def __contains__(self, key):
        return True

    def __missing__(self, key):
        return _AnyObject()


def declared_screens():
    """``{persona: [(name, route)]}``: the screens each persona checks, by URL pattern,
    without data (objects' numbers do not change the pattern a path answers to)."""
    screens = {}
    for persona, (_email, screens_of) in PERSONAS.items():
        screens[persona] = [
            (name, axe_record.route_of(path() if callable(path) else path))
            for name, path in screens_of(_AnyData())
        ]
    return screens


@pytest.mark.parametrize("persona", list(PERSONAS))
def test_main_screens_pass_axe_wcag_a_and_aa(page, persona):
    email, screens = PERSONAS[persona]
    data = _demo_data()
    if email:
        log_in(page, email, seed.DEMO_PASSWORD)
        page.wait_for_url(lambda url: "/compte/connexion/" not in url)
    report, checked, axe_version = [], [], None
    for name, path in screens(data):
        path = path() if callable(path) else path
        response = page.goto(path)
        assert response is not None and response.ok, f"{name} : {path}"
        assert page.url.endswith(path), f"{name} : {path} redirige vers {page.url}"
        found, counts, axe_version = _violations(page)
        if found:
            report.append(f"{name} ({path}) :\n" + "".join(found))
        checked.append(
            {"name": name, "path": path, "route": axe_record.route_of(path), "violations": counts}
        )
    if axe_record.wanted():
        browser = page.context.browser
        axe_record.write(
            persona,
            checked,
            axe_version=axe_version,
            browser=f"{browser.browser_type.name.capitalize()} {browser.version}",
            tags=AXE_OPTIONS["runOnly"]["values"],
            excluded=EXCLUDED,
        )
    assert not report, f"Violations WCAG A/AA ({persona}) :\n" + "\n".join(report)

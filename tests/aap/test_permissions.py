"""Every URL declares who may use it, and every persona gets the status it should."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from aap.states import CallStatus
from core.permissions import RuleMixin
from tests.factories import CallFactory, add_structure, as_draft


def _patterns(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django's admin checks is_staff on every view itself
            space = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _patterns(entry, space)
        elif isinstance(entry, URLPattern):
            yield f"{namespace}{entry.name}", entry.callback


def test_every_view_declares_a_rule():
    missing = []
    for name, callback in _patterns():
        view_class = getattr(callback, "view_class", None)
        if view_class is not None:
            if not (issubclass(view_class, RuleMixin) and view_class.rule is not None):
                missing.append(name)
        elif getattr(callback, "rule", None) is None:
            missing.append(name)
    assert missing == []


def test_only_views_marked_public_let_anonymous_visitors_in():
    for name, callback in _patterns():
        view_class = getattr(callback, "view_class", None)
        public = view_class.public if view_class else getattr(callback, "public", False)
        assert getattr(callback, "login_required", True) is (not public), name


@pytest.fixture
def world(db, candidate, other_candidate, instructeur, evaluator, ddets_reader):
    published = add_structure(CallFactory())
    draft = add_structure(CallFactory(status=CallStatus.DRAFT))
    document = published.required_documents.get()
    draft_document = draft.required_documents.get()
    from django.core.files.base import ContentFile

    for doc in (document, draft_document):
        doc.template.save("modele.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
        doc.template_name = "modele.pdf"
        with as_draft(doc.call):
            doc.save()
    question = published.questions.create(asked_by=candidate, question="Une question ?")
    with as_draft(draft):
        form_question = draft.form_questions.create(position=1, label="Résumé", kind="long_text")
    return {
        "form_question": form_question,
        "published": published,
        "draft": draft,
        "document": document,
        "draft_document": draft_document,
        "question": question,
        "users": {
            "anonymous": None,
            "candidate": candidate,
            "instructeur": instructeur,
            "evaluator": evaluator,
            "ddets_reader": ddets_reader,
        },
    }


LOGIN = "login"  # redirected to the login page
PERSONAS = ["anonymous", "candidate", "instructeur", "evaluator", "ddets_reader"]


def _matrix(world):
    published, draft = world["published"], world["draft"]
    public_all = dict.fromkeys(PERSONAS, 200)
    staff_only = {
        "anonymous": LOGIN,
        "candidate": 403,
        "instructeur": 200,
        "evaluator": 403,
        "ddets_reader": 403,
    }
    logged_in = {
        "anonymous": LOGIN,
        "candidate": 200,
        "instructeur": 200,
        "evaluator": 200,
        "ddets_reader": 200,
    }
    hidden_draft = {
        "anonymous": 404,
        "candidate": 404,
        "instructeur": 200,
        "evaluator": 404,
        "ddets_reader": 404,
    }
    pk, dpk = published.pk, draft.pk
    return [
        (reverse("aap:home"), public_all),
        (reverse("aap:call_list"), public_all),
        (reverse("aap:call_detail", args=[published.slug]), public_all),
        (reverse("aap:call_pdf", args=[published.slug]), public_all),
        (reverse("aap:template_download", args=[published.slug, world["document"].pk]), public_all),
        (reverse("aap:call_detail", args=[draft.slug]), hidden_draft),
        (reverse("aap:call_pdf", args=[draft.slug]), hidden_draft),
        (
            reverse("aap:template_download", args=[draft.slug, world["draft_document"].pk]),
            hidden_draft,
        ),
        # the document of one call through the address of another: never found
        (
            reverse("aap:template_download", args=[published.slug, world["draft_document"].pk]),
            dict.fromkeys(PERSONAS, 404),
        ),
        (
            reverse("aap:ask_question", args=[published.slug]),
            {
                "anonymous": LOGIN,
                "candidate": 200,
                "instructeur": 403,
                "evaluator": 403,
                "ddets_reader": 403,
            },
        ),
        (reverse("aap:backoffice_calls"), staff_only),
        (reverse("aap:backoffice_create"), staff_only),
        (reverse("aap:backoffice_call", args=[pk]), staff_only),
        (reverse("aap:backoffice_call", args=[dpk]), staff_only),
        (reverse("aap:backoffice_edit", args=[dpk]), staff_only),
        (reverse("aap:backoffice_lots", args=[dpk]), staff_only),
        (reverse("aap:backoffice_criteria", args=[dpk]), staff_only),
        (reverse("aap:backoffice_actions", args=[dpk]), staff_only),
        (reverse("aap:backoffice_documents", args=[dpk]), staff_only),
        (reverse("aap:backoffice_questions_form", args=[dpk]), staff_only),
        (reverse("aap:form_question_edit", args=[dpk, world["form_question"].pk]), staff_only),
        (reverse("aap:backoffice_abandon", args=[pk]), staff_only),
        (reverse("aap:programme_list"), staff_only),
        (reverse("aap:programme_create"), staff_only),
        (reverse("aap:programme_edit", args=[published.programme_id]), staff_only),
        (reverse("aap:programme_delete", args=[published.programme_id]), staff_only),
        (reverse("aap:backoffice_transition", args=[dpk, "publish"]), staff_only),
        (reverse("aap:backoffice_reopen", args=[pk]), staff_only),
        (reverse("aap:backoffice_questions", args=[pk]), staff_only),
        (reverse("aap:backoffice_answer", args=[world["question"].pk]), staff_only),
        (reverse("accounts:profile"), logged_in),
        (reverse("accounts:reminders"), logged_in),
        (reverse("accounts:calendar"), logged_in),
        (reverse("aap:backoffice_reminders", args=[pk]), staff_only),
        (reverse("calendar_feed", args=["jeton-inconnu"]), dict.fromkeys(PERSONAS, 404)),
        (reverse("accounts:password_change"), logged_in),
        (
            reverse("accounts:login"),
            {
                "anonymous": 200,
                "candidate": 302,
                "instructeur": 302,
                "evaluator": 302,
                "ddets_reader": 302,
            },
        ),
        (
            reverse("accounts:signup"),
            {
                "anonymous": 200,
                "candidate": 302,
                "instructeur": 302,
                "evaluator": 302,
                "ddets_reader": 302,
            },
        ),
        (reverse("accounts:password_reset"), public_all),
        (reverse("legal:notice"), public_all),
        (reverse("legal:privacy"), public_all),
        (reverse("legal:accessibility"), public_all),
        (reverse("legal:sitemap"), public_all),
        (reverse("healthz"), public_all),
        (reverse("readyz"), public_all),
    ]


def test_persona_url_matrix(world, client_for):
    failures = []
    for url, expected_by_persona in _matrix(world):
        for persona, expected in expected_by_persona.items():
            response = client_for(world["users"][persona]).get(url)
            if expected == LOGIN:
                ok = response.status_code == 302 and response["Location"].startswith(
                    reverse("accounts:login")
                )
            else:
                ok = response.status_code == expected
            if not ok:
                failures.append(f"{persona} GET {url}: {response.status_code}, expected {expected}")
    assert failures == []


WRITE_URLS = [
    ("aap:backoffice_create", lambda w: []),
    ("aap:backoffice_edit", lambda w: [w["draft"].pk]),
    ("aap:backoffice_lots", lambda w: [w["draft"].pk]),
    ("aap:backoffice_criteria", lambda w: [w["draft"].pk]),
    ("aap:backoffice_actions", lambda w: [w["draft"].pk]),
    ("aap:backoffice_documents", lambda w: [w["draft"].pk]),
    ("aap:form_question_add", lambda w: [w["draft"].pk]),
    ("aap:form_question_edit", lambda w: [w["draft"].pk, w["form_question"].pk]),
    ("aap:form_question_delete", lambda w: [w["draft"].pk, w["form_question"].pk]),
    ("aap:form_question_move", lambda w: [w["draft"].pk, w["form_question"].pk]),
    ("aap:backoffice_abandon", lambda w: [w["published"].pk]),
    ("aap:programme_create", lambda w: []),
    ("aap:programme_edit", lambda w: [w["published"].programme_id]),
    ("aap:programme_delete", lambda w: [w["published"].programme_id]),
    ("aap:backoffice_transition", lambda w: [w["draft"].pk, "publish"]),
    ("aap:backoffice_reopen", lambda w: [w["published"].pk]),
    ("aap:backoffice_answer", lambda w: [w["question"].pk]),
    ("aap:backoffice_reminders", lambda w: [w["published"].pk]),
]


@pytest.mark.parametrize("persona", ["candidate", "evaluator", "ddets_reader"])
def test_no_write_url_of_the_back_office_accepts_other_roles(world, client_for, persona):
    client = client_for(world["users"][persona])
    for name, args in WRITE_URLS:
        response = client.post(reverse(name, args=args(world)), {"note": "x", "title": "x"})
        assert response.status_code == 403, name
    world["draft"].refresh_from_db()
    assert world["draft"].status == CallStatus.DRAFT
    world["question"].refresh_from_db()
    assert world["question"].published_at is None
    world["published"].refresh_from_db()
    assert world["published"].status == CallStatus.PUBLISHED
    assert list(world["draft"].form_questions.values_list("label", flat=True)) == ["Résumé"]


def test_anonymous_posts_to_the_back_office_are_sent_to_login(world, client):
    for name, args in WRITE_URLS:
        response = client.post(reverse(name, args=args(world)), {"note": "x"})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


def test_a_view_cannot_name_one_predicate_twice():
    """One check per predicate: a rule that reads only roles is checked before the object
    is fetched by itself; repeating it as the view's role is refused."""
    from django.core.exceptions import ImproperlyConfigured

    from core.permissions import RuleMixin
    from core.rules import is_instructeur

    with pytest.raises(ImproperlyConfigured, match="same predicate"):

        class Twice(RuleMixin):
            role = staticmethod(is_instructeur)
            rule = staticmethod(is_instructeur)

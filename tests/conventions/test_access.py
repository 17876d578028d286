"""Who reaches what among agreements: every URL of ``conventions/urls.py`` with every
persona, GET and POST, over data that could leak.

Instructeurs run agreements; the DDETS reads agreements, reviews and indicators and writes
nothing but remarks on reviews; an organisation's members reach only their own agreements
(another organisation's → 404, like the staff on the members' pages); the open data is
public; anonymous visitors are sent to log in everywhere else. A refused write changes
nothing and shows neither the organisation's name nor its SIRET.
"""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from conventions import services
from conventions.dates import add_months
from conventions.models import (
    Amendment,
    AmendmentInstalment,
    Convention,
    FundingTerms,
    Indicator,
    IndicatorValue,
    Payment,
    ProgressReview,
    Report,
    ReviewRemark,
)
from conventions.states import ReportKind
from conventions.urls import urlpatterns as conventions_patterns
from core.permissions import RuleMixin
from tests.aap.test_permissions import _patterns
from tests.conventions.conftest import pdf_upload, select, sign
from tests.factories import OrganisationFactory, dossier_ready_call

LOGIN = "login"
PERSONAS = ["anonymous", "candidate", "other_candidate", "instructeur", "evaluator", "ddets_reader"]
SECRET_NAME = "Communauté de communes secrète"
SECRET_SIRET = "73282932000074"


@pytest.fixture
def world(db, candidate, other_candidate, instructeur, evaluator, ddets_reader):
    """The candidate's organisation has a signed agreement in progress, with a scan, a report
    received, a progress review with its remark, indicator values, a signed avenant and
    another sent for signature; the other candidate's organisation has an agreement of
    its own."""
    organisation = OrganisationFactory(name=SECRET_NAME, siret=SECRET_SIRET, members=[candidate])
    decision = select(dossier_ready_call(), organisation, candidate, by=instructeur)
    convention = services.create_convention(decision, by=instructeur)
    sign(convention, instructeur, start=True)
    call = convention.call
    indicator = Indicator.objects.create(call=call, label="Réunions", target=Decimal(8))
    services.report_indicator(convention, indicator, by=candidate, period=1, value=Decimal(2))
    report = convention.reports.get(kind=ReportKind.INTERMEDIATE)
    services.submit_report(report, by=candidate, uploaded=pdf_upload("bilan.pdf"))
    review = services.schedule_review(
        convention,
        by=instructeur,
        scheduled_at=timezone.now() + dt.timedelta(days=3),
        place="Grenoble",
        participants="Département, DDETS, structure",
    )
    services.add_remark(review, by=ddets_reader, text="Remarque confidentielle")
    signed_amendment = services.prepare_amendment(convention, by=instructeur)
    services.update_amendment(
        signed_amendment,
        by=instructeur,
        changes="Prolongation d'un mois",
        amount_after=convention.amount,
        period_end_after=add_months(convention.period_end, 1),
    )
    services.send_amendment(signed_amendment, by=instructeur)
    services.record_amendment_signature(
        signed_amendment,
        by=instructeur,
        signed_on=timezone.localdate(),
        uploaded=pdf_upload("avenant-1.pdf"),
    )
    amendment = services.prepare_amendment(convention, by=instructeur)
    instalment = amendment.instalments.get(label="Solde")
    services.save_amendment_instalment(
        amendment,
        by=instructeur,
        instalment=instalment,
        label="Solde",
        due_on=instalment.due_on,
        amount=instalment.amount - Decimal("500"),
        condition=instalment.condition,
    )
    convention.refresh_from_db()
    services.update_amendment(
        amendment,
        by=instructeur,
        changes="Baisse",
        amount_after=convention.amount - Decimal("500"),
        period_end_after=convention.period_end,
    )
    services.send_amendment(amendment, by=instructeur)
    balance = convention.payments.get(label="Solde")
    other_organisation = OrganisationFactory(name="GIP voisin", members=[other_candidate])
    other_decision = select(
        dossier_ready_call(), other_organisation, other_candidate, by=instructeur
    )
    other_convention = services.create_convention(other_decision, by=instructeur)
    return {
        "decision": decision,
        "convention": convention,
        "other_convention": other_convention,
        "call": call,
        "indicator": indicator,
        "report": report,
        "review": review,
        "payment": balance,
        "amendment": amendment,
        "signed_amendment": signed_amendment,
        "instalment": instalment,
        "users": {
            "anonymous": None,
            "candidate": candidate,
            "other_candidate": other_candidate,
            "instructeur": instructeur,
            "evaluator": evaluator,
            "ddets_reader": ddets_reader,
        },
    }


STAFF_READ = {
    "anonymous": LOGIN,
    "candidate": 403,
    "other_candidate": 403,
    "instructeur": 200,
    "evaluator": 403,
    "ddets_reader": 200,
}
INSTRUCTEURS_ONLY = {**STAFF_READ, "ddets_reader": 403}
STAFF_WRITE_GET = {**STAFF_READ, "instructeur": 405, "ddets_reader": 403}
REMARK_GET = {**STAFF_READ, "instructeur": 405, "ddets_reader": 405}
CANDIDATES_ONLY = {
    "anonymous": LOGIN,
    "candidate": 200,
    "other_candidate": 200,
    "instructeur": 403,
    "evaluator": 403,
    "ddets_reader": 403,
}
PUBLIC = dict.fromkeys(PERSONAS, 200)


def members_only(status=200):
    return {
        "anonymous": LOGIN,
        "candidate": status,
        "other_candidate": 404,
        "instructeur": 404,
        "evaluator": 404,
        "ddets_reader": 404,
    }


def get_matrix(w):
    c, p, r, v = w["convention"].pk, w["payment"].pk, w["report"].pk, w["review"].pk
    a, a1, i = w["amendment"].pk, w["signed_amendment"].pk, w["instalment"].pk
    return [
        ("draft", [c], STAFF_WRITE_GET),
        ("amendment_detail", [a], STAFF_READ),
        ("amendment_update", [a], STAFF_WRITE_GET),
        ("amendment_instalment_add", [a], STAFF_WRITE_GET),
        ("amendment_instalment_delete", [i], STAFF_WRITE_GET),
        ("amendment_transition", [a, "send"], STAFF_WRITE_GET),
        ("amendment_sign", [a], STAFF_WRITE_GET),
        ("amendment_pdf", [a], STAFF_READ),
        ("amendment_scan", [a1], STAFF_READ),
        ("report_send_back", [r], STAFF_WRITE_GET),
        ("my_amendment_pdf", [c, a], members_only()),
        ("my_amendment_scan", [c, a1], members_only()),
        ("dashboard", [], STAFF_READ),
        ("export", ["conventions"], STAFF_READ),
        ("create", [w["decision"].pk], INSTRUCTEURS_ONLY),
        ("detail", [c], STAFF_READ),
        ("pdf", [c], STAFF_READ),
        ("scan", [c], STAFF_READ),
        ("transition", [c, "terminate"], STAFF_WRITE_GET),
        ("sign", [c], STAFF_WRITE_GET),
        ("amendment", [c], STAFF_WRITE_GET),
        ("renew", [c], STAFF_WRITE_GET),
        ("payment_add", [c], STAFF_WRITE_GET),
        ("payment_edit", [p], INSTRUCTEURS_ONLY),
        ("payment_delete", [p], STAFF_WRITE_GET),
        ("payment_move", [p, "request"], STAFF_WRITE_GET),
        ("report_download", [r], STAFF_READ),
        ("report_accept", [r], STAFF_WRITE_GET),
        ("review_add", [c], STAFF_WRITE_GET),
        ("review_record", [v], STAFF_WRITE_GET),
        ("review_remark", [v], REMARK_GET),
        ("call_indicators", [w["call"].pk], INSTRUCTEURS_ONLY),
        ("my_conventions", [], CANDIDATES_ONLY),
        ("my_convention", [c], members_only()),
        ("my_pdf", [c], members_only()),
        ("my_scan", [c], members_only()),
        ("my_report", [c, r], members_only()),
        ("report_upload", [c, r], members_only(405)),
        ("indicators", [c], members_only()),
        ("opendata", [], PUBLIC),
    ]


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def check(response, expected) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(
            reverse("accounts:login")
        )
    return response.status_code == expected


def leaks(response) -> bool:
    body = body_of(response)
    return SECRET_NAME.encode() in body or SECRET_SIRET.encode() in body


def test_every_conventions_url_is_in_the_matrix(world):
    names = {pattern.name for pattern in conventions_patterns}
    assert {name for name, _args, _expected in get_matrix(world)} == names


def test_persona_url_matrix_for_reading(world, client_for):
    failures = []
    for name, args, expected_by_persona in get_matrix(world):
        url = reverse(f"conventions:{name}", args=args)
        for persona, expected in expected_by_persona.items():
            response = client_for(world["users"][persona]).get(url)
            if not check(response, expected):
                failures.append(f"{persona} GET {url}: {response.status_code}, expected {expected}")
            # Refusals show nothing; the open data publishes signed agreements on purpose.
            elif name != "opendata" and response.status_code >= 300 and leaks(response):
                failures.append(f"{persona} GET {url}: shows the organisation")
    assert failures == []


def test_the_other_candidate_sees_only_its_own_agreement(world, client_for):
    page = client_for(world["users"]["other_candidate"]).get(reverse("conventions:my_conventions"))
    assert list(page.context["conventions"]) == [world["other_convention"]]
    assert not leaks(page)
    mine = client_for(world["users"]["candidate"]).get(reverse("conventions:my_conventions"))
    assert list(mine.context["conventions"]) == [world["convention"]]


def test_the_ddets_reads_the_agreement_with_its_reviews_and_indicators(world, client_for):
    page = client_for(world["users"]["ddets_reader"]).get(
        reverse("conventions:detail", args=[world["convention"].pk])
    )
    content = page.content.decode()
    assert SECRET_NAME in content
    assert "Remarque confidentielle" in content
    assert 'data-kind="indicator"' in content
    assert page.context["can_manage"] is False
    assert page.context["moves"] == []
    assert all(form is None for _p, _a, form in page.context["payment_rows"])


# --- Writes ---------------------------------------------------------------------------------------


def post_matrix(w):
    """(URL name, args, data factory, {persona: expected status}) for every write: only the
    refusals are listed, the allowed writes are tested where they live."""
    c, p, r, v = w["convention"].pk, w["payment"].pk, w["report"].pk, w["review"].pk
    today = timezone.localdate().isoformat()
    staff_refused = {
        "anonymous": LOGIN,
        "candidate": 403,
        "other_candidate": 403,
        "evaluator": 403,
        "ddets_reader": 403,
    }
    outsiders = {
        "anonymous": LOGIN,
        "other_candidate": 404,
        "instructeur": 404,
        "evaluator": 404,
        "ddets_reader": 404,
    }
    remark_refused = {k: s for k, s in staff_refused.items() if k != "ddets_reader"}
    a, i = w["amendment"].pk, w["instalment"].pk
    return [
        (
            "draft",
            [c],
            lambda: {
                "draft-period_start": "2027-02-01",
                "draft-period_end": "2027-12-31",
                "draft-object": "Intrus",
                "draft-payment_terms": "Intrus",
                "draft-obligations": "Intrus",
                "draft-subsidy_share": "1",
            },
            staff_refused,
        ),
        (
            "amendment_update",
            [a],
            lambda: {
                "amendment-changes": "Intrus",
                "amendment-amount_after": "1",
                "amendment-period_end_after": "2027-12-31",
            },
            staff_refused,
        ),
        (
            "amendment_instalment_add",
            [a],
            lambda: {
                "instalment-label": "Intrus",
                "instalment-due_on": "2027-06-30",
                "instalment-amount": "1",
                "instalment-condition": "signature",
            },
            staff_refused,
        ),
        ("amendment_instalment_delete", [i], dict, staff_refused),
        (
            "amendment_transition",
            [a, "cancel"],
            lambda: {"cancel-reason": "Par un intrus"},
            staff_refused,
        ),
        (
            "amendment_sign",
            [a],
            lambda: {"sign-signed_on": today, "sign-file": pdf_upload()},
            staff_refused,
        ),
        ("report_send_back", [r], lambda: {f"back{r}-reason": "Intrus"}, staff_refused),
        (
            "create",
            [w["decision"].pk],
            lambda: {"period_start": "2031-01-01", "period_end": "2031-12-31"},
            staff_refused,
        ),
        (
            "transition",
            [c, "terminate"],
            lambda: {"terminate-reason": "Par un intrus"},
            staff_refused,
        ),
        (
            "sign",
            [c],
            lambda: {"sign-signed_on": today, "sign-file": pdf_upload()},
            staff_refused,
        ),
        ("amendment", [c], dict, staff_refused),
        ("renew", [c], dict, staff_refused),
        (
            "payment_add",
            [c],
            lambda: {
                "payment-label": "Intrus",
                "payment-due_on": today,
                "payment-amount": "100",
            },
            staff_refused,
        ),
        (
            "payment_edit",
            [p],
            lambda: {"label": "Intrus", "due_on": today, "amount": "1"},
            staff_refused,
        ),
        ("payment_delete", [p], dict, staff_refused),
        ("payment_move", [p, "request"], lambda: {f"p{p}-on": today}, staff_refused),
        ("report_accept", [r], dict, staff_refused),
        (
            "review_add",
            [c],
            lambda: {
                "review-date": today,
                "review-time": "10:00",
                "review-participants": "Intrus",
            },
            staff_refused,
        ),
        (
            "review_record",
            [v],
            lambda: {f"record{v}-minutes": "Compte rendu d'un intrus"},
            staff_refused,
        ),
        ("review_remark", [v], lambda: {f"remark{v}-text": "Remarque d'un intrus"}, remark_refused),
        (
            "call_indicators",
            [w["call"].pk],
            lambda: {
                "terms-advance_percent": "1",
                "terms-advance_days": "1",
                "terms-balance_condition": "Intrus",
                "items-TOTAL_FORMS": "0",
                "items-INITIAL_FORMS": "0",
            },
            staff_refused,
        ),
        ("report_upload", [c, r], lambda: {"file": pdf_upload("intrus.pdf")}, outsiders),
        (
            "indicators",
            [c],
            lambda: {"period": "1", f"value_{w['indicator'].pk}": "99"},
            outsiders,
        ),
    ]


def snapshot():
    return {
        "conventions": sorted(
            Convention.objects.values_list(
                "pk", "status", "amount", "period_end", "signed_on", "termination_reason"
            )
        ),
        "payments": sorted(Payment.objects.values_list("pk", "label", "amount", "status")),
        "reports": sorted(
            Report.objects.values_list("pk", "file_name", "sha256", "status", "sent_back_reason")
        ),
        "reviews": sorted(ProgressReview.objects.values_list("pk", "minutes", "held")),
        "remarks": sorted(ReviewRemark.objects.values_list("pk", "text")),
        "values": sorted(IndicatorValue.objects.values_list("pk", "value")),
        "indicators": sorted(Indicator.objects.values_list("pk", "label")),
        "amendments": sorted(
            Amendment.objects.values_list("pk", "status", "changes", "amount_after")
        ),
        "instalments": sorted(AmendmentInstalment.objects.values_list("pk", "label", "amount")),
        "terms": sorted(FundingTerms.objects.values_list("call", "advance_percent")),
    }


def test_every_write_url_is_in_the_post_matrix(world):
    writes = {name for name, _args, _data, _expected in post_matrix(world)}
    reads = {"dashboard", "export", "detail", "pdf", "scan", "report_download", "my_conventions"}
    reads |= {"my_convention", "my_pdf", "my_scan", "my_report", "opendata"}
    reads |= {"amendment_detail", "amendment_pdf", "amendment_scan"}
    reads |= {"my_amendment_pdf", "my_amendment_scan"}
    assert writes | reads == {pattern.name for pattern in conventions_patterns}


@pytest.mark.parametrize("persona", PERSONAS)
def test_refused_writes_answer_as_expected_and_change_nothing(world, client_for, persona):
    before = snapshot()
    client = client_for(world["users"][persona])
    failures = []
    for name, args, data, expected_by_persona in post_matrix(world):
        if persona not in expected_by_persona:
            continue
        url = reverse(f"conventions:{name}", args=args)
        response = client.post(url, data())
        expected = expected_by_persona[persona]
        if not check(response, expected):
            failures.append(f"{persona} POST {url}: {response.status_code}, expected {expected}")
        elif leaks(response):
            failures.append(f"{persona} POST {url}: shows the organisation")
    assert failures == []
    assert snapshot() == before


def test_the_ddets_writes_remarks_and_nothing_else(world, client_for):
    ddets = client_for(world["users"]["ddets_reader"])
    refused = [
        name
        for name, args, data, expected in post_matrix(world)
        if name != "review_remark"
        and ddets.post(reverse(f"conventions:{name}", args=args), data()).status_code
        not in (403, 404)
    ]
    assert refused == []
    review = world["review"]
    response = ddets.post(
        reverse("conventions:review_remark", args=[review.pk]),
        {f"remark{review.pk}-text": "Avis de la DDETS sur le point d'étape"},
    )
    assert response.status_code == 302
    assert ReviewRemark.objects.filter(
        review=review, author=world["users"]["ddets_reader"], text__startswith="Avis"
    ).exists()


# --- Every view declares a rule ----------------------------------------------------------------


def test_every_conventions_url_declares_a_rule():
    walked = dict(_patterns())
    for pattern in conventions_patterns:
        view_class = walked[f"conventions:{pattern.name}"].view_class
        assert issubclass(view_class, RuleMixin) and view_class.rule is not None, pattern.name


def test_only_the_open_data_lets_anonymous_visitors_in():
    public = {
        pattern.name for pattern in conventions_patterns if pattern.callback.view_class.public
    }
    assert public == {"opendata"}
    for pattern in conventions_patterns:
        assert getattr(pattern.callback, "login_required", True) is (pattern.name != "opendata")

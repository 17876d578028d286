"""Agreements through their pages: what the Service IVE, the DDETS and the organisation
see and do, the PDF with every particular, and the XLSX exports."""

import datetime as dt
import html
import io
import re
import subprocess
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from conventions import services
from conventions.models import (
    Convention,
    IndicatorValue,
    Payment,
    ProgressReview,
    Report,
    ReviewRemark,
)
from conventions.states import ConventionStatus, PaymentStatus, ReportKind
from evaluation.models import DecisionRectification
from tests.candidatures.conftest import PDF
from tests.conventions.conftest import (
    END,
    ORGANISATION,
    START,
    draft_data,
    pay,
    pdf_upload,
    template_data,
)
from tests.pdf import pdf_text


def text_of(response) -> str:
    """The page's text as read, tags removed and spaces collapsed (no-break ones too)."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return " ".join(text.replace("\xa0", " ").split())


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Creation and moves -----------------------------------------------------------------------


def test_the_evaluation_page_leads_to_the_creation_of_the_agreement(
    selected_decision, instructeur, client_for
):
    client = client_for(instructeur)
    dossier_page = client.get(
        reverse("evaluation:dossier", args=[selected_decision.candidature_id])
    ).content.decode()
    create_url = reverse("conventions:create", args=[selected_decision.pk])
    assert create_url in dossier_page
    page = client.get(create_url)
    assert page.status_code == 200
    assert "24 500,00 €" in text_of(page)
    # The period the form proposes starts the month after the decision of 6 December 2026.
    assert page.context["form"].initial == {"period_start": START, "period_end": END}
    early = client.post(create_url, {"period_start": "2026-01-01", "period_end": "2026-12-31"})
    assert early.status_code == 400
    assert "avant la décision du 6 décembre 2026" in text_of(early)
    assert not Convention.objects.exists()
    period = {"period_start": "2027-01-01", "period_end": "2027-12-31"}
    response = client.post(create_url, period)
    convention = Convention.objects.get()
    assert response["Location"] == reverse("conventions:detail", args=[convention.pk])
    assert (convention.period_start, convention.status) == (START, ConventionStatus.DRAFT)
    again = client.post(create_url, period)
    assert again.status_code == 400
    assert "existe déjà" in again.content.decode()
    assert Convention.objects.count() == 1


def test_the_instructeur_moves_the_agreement_from_its_page(convention, instructeur, client_for):
    client = client_for(instructeur)
    detail = reverse("conventions:detail", args=[convention.pk])
    page = client.get(detail).content.decode()
    assert reverse("conventions:transition", args=[convention.pk, "send"]) in page
    client.post(
        reverse("conventions:transition", args=[convention.pk, "send"]), {"send-note": "Envoi"}
    )
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.SENT
    # A Word file renamed .pdf is refused, and nothing moves.
    response = client.post(
        reverse("conventions:sign", args=[convention.pk]),
        {
            "sign-signed_on": timezone.localdate().isoformat(),
            "sign-file": SimpleUploadedFile("signee.pdf", b"PK\x03\x04 not a pdf" * 100),
        },
        follow=True,
    )
    assert any("ne correspond pas" in m for m in messages_of(response))
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.SENT
    future = client.post(
        reverse("conventions:sign", args=[convention.pk]),
        {
            "sign-signed_on": (timezone.localdate() + dt.timedelta(days=1)).isoformat(),
            "sign-file": pdf_upload(),
        },
        follow=True,
    )
    assert any("futur" in m for m in messages_of(future))
    client.post(
        reverse("conventions:sign", args=[convention.pk]),
        {"sign-signed_on": timezone.localdate().isoformat(), "sign-file": pdf_upload()},
    )
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.SIGNED
    scan = client.get(reverse("conventions:scan", args=[convention.pk]))
    assert b"".join(scan.streaming_content) == PDF
    assert scan["X-Content-Type-Options"] == "nosniff"
    assert scan["Content-Disposition"] == 'attachment; filename="convention-signee.pdf"'
    client.post(reverse("conventions:transition", args=[convention.pk, "start"]))
    refused = client.post(
        reverse("conventions:transition", args=[convention.pk, "terminate"]),
        {"terminate-reason": ""},
        follow=True,
    )
    assert any("motif" in m for m in messages_of(refused))
    client.post(
        reverse("conventions:transition", args=[convention.pk, "terminate"]),
        {"terminate-reason": "Dissolution de la structure"},
    )
    convention.refresh_from_db()
    assert convention.status == ConventionStatus.TERMINATED
    assert convention.termination_reason == "Dissolution de la structure"
    assert (
        client.post(reverse("conventions:transition", args=[convention.pk, "sign"])).status_code
        == 404
    )
    page = text_of(client.get(detail))
    assert "Dissolution de la structure" in page
    assert list(convention.status_changes.values_list("action", flat=True)) == [
        "send",
        "sign",
        "start",
        "terminate",
    ]


def test_the_draft_schedule_through_the_page(convention, instructeur, client_for):
    client = client_for(instructeur)
    balance = convention.payments.get(label="Solde")
    response = client.post(
        reverse("conventions:payment_add", args=[convention.pk]),
        {
            "payment-label": "Complément",
            "payment-due_on": "2027-09-30",
            "payment-amount": "0,01",
            "payment-condition": "signature",
        },
        follow=True,
    )
    assert any("dépasseraient le montant" in m for m in messages_of(response))
    edit = reverse("conventions:payment_edit", args=[balance.pk])
    assert client.get(edit).status_code == 200
    no_date = client.post(
        edit,
        {"label": "Solde", "due_on": "2028-03-31", "amount": "9 000,00", "condition": "date"},
    )
    assert no_date.status_code == 400
    assert "Indiquez la date à partir de laquelle verser" in text_of(no_date)
    lowered = client.post(
        edit,
        {
            "label": "Solde",
            "due_on": "2028-03-31",
            "amount": "9 000,00",
            "condition": "final_reports",
        },
    )
    assert lowered.status_code == 302
    client.post(
        reverse("conventions:payment_add", args=[convention.pk]),
        {
            "payment-label": "Complément",
            "payment-due_on": "2027-09-30",
            "payment-amount": "800 €",
            "payment-condition": "date",
            "payment-condition_date": "2027-09-01",
        },
    )
    extra = convention.payments.get(label="Complément")
    assert (extra.condition, extra.condition_date) == ("date", dt.date(2027, 9, 1))
    page = text_of(client.get(reverse("conventions:detail", args=[convention.pk])))
    assert "À partir du 1 septembre 2027" in page
    client.post(reverse("conventions:payment_delete", args=[extra.pk]))
    assert not convention.payments.filter(label="Complément").exists()


def test_a_signed_schedule_refuses_every_change_through_the_pages(signed, instructeur, client_for):
    """The add, edit and delete URLs answer with the refusal and change nothing."""
    client = client_for(instructeur)
    balance = signed.payments.get(label="Solde")
    before = list(signed.payments.values_list("pk", "label", "amount", "due_on"))
    edit = client.post(
        reverse("conventions:payment_edit", args=[balance.pk]),
        {"label": "Solde", "due_on": "2028-03-31", "amount": "10 000", "condition": "signature"},
    )
    assert edit.status_code == 400
    assert "ne change que par un avenant signé" in text_of(edit)
    for response in (
        client.post(
            reverse("conventions:payment_add", args=[signed.pk]),
            {
                "payment-label": "Complément",
                "payment-due_on": "2027-09-30",
                "payment-amount": "1",
                "payment-condition": "signature",
            },
            follow=True,
        ),
        client.post(reverse("conventions:payment_delete", args=[balance.pk]), follow=True),
    ):
        assert any("ne change que par un avenant signé" in m for m in messages_of(response))
    assert list(signed.payments.values_list("pk", "label", "amount", "due_on")) == before
    page = client.get(reverse("conventions:detail", args=[signed.pk])).content.decode()
    assert reverse("conventions:payment_edit", args=[balance.pk]) not in page
    assert reverse("conventions:payment_add", args=[signed.pk]) not in page


def test_payments_move_through_the_page(signed, instructeur, client_for):
    client = client_for(instructeur)
    advance = signed.payments.get(label="Avance à la signature")
    today = timezone.localdate().isoformat()
    move = lambda action, data: client.post(  # noqa: E731
        reverse("conventions:payment_move", args=[advance.pk, action]), data, follow=True
    )
    move("request", {f"p{advance.pk}-on": today})
    no_reference = move("order", {f"p{advance.pk}-on": today})
    assert any("Référence comptable" in m for m in messages_of(no_reference))
    move("order", {f"p{advance.pk}-on": today, f"p{advance.pk}-reference": "MANDAT-42"})
    page = move("pay", {f"p{advance.pk}-on": today})
    advance.refresh_from_db()
    assert advance.status == PaymentStatus.PAID
    assert advance.accounting_reference == "MANDAT-42"
    assert "12 250,00 €" in text_of(page)  # paid
    balance = signed.payments.get(label="Solde")
    refused = client.post(
        reverse("conventions:payment_move", args=[balance.pk, "request"]),
        {f"p{balance.pk}-on": today},
        follow=True,
    )
    assert any("validation du bilan final" in m for m in messages_of(refused))
    balance.refresh_from_db()
    assert balance.status == PaymentStatus.PLANNED


def test_reports_and_reviews_through_the_pages(
    signed, instructeur, ddets_reader, candidate, client_for
):
    report = signed.reports.get(kind=ReportKind.INTERMEDIATE)
    member = client_for(candidate)
    member.post(
        reverse("conventions:report_upload", args=[signed.pk, report.pk]),
        {"file": pdf_upload("bilan-intermediaire.pdf")},
    )
    report.refresh_from_db()
    assert report.file_name == "bilan-intermediaire.pdf"
    staff = client_for(instructeur)
    download = staff.get(reverse("conventions:report_download", args=[report.pk]))
    assert b"".join(download.streaming_content) == PDF
    staff.post(reverse("conventions:report_accept", args=[report.pk]))
    report.refresh_from_db()
    assert report.accepted_at is not None
    staff.post(
        reverse("conventions:review_add", args=[signed.pk]),
        {
            "review-date": (timezone.localdate() + dt.timedelta(days=5)).isoformat(),
            "review-time": "14:00",
            "review-place": "Maison du Département, Villard-de-Lans",
            "review-participants": "Département, DDETS, structure",
        },
    )
    review = ProgressReview.objects.get()
    assert timezone.localtime(review.scheduled_at).hour == 14
    staff.post(
        reverse("conventions:review_record", args=[review.pk]),
        {f"record{review.pk}-minutes": "Réseau actif.", f"record{review.pk}-adjustments": ""},
    )
    ddets = client_for(ddets_reader)
    ddets.post(
        reverse("conventions:review_remark", args=[review.pk]),
        {f"remark{review.pk}-text": "Point de vigilance sur le Vercors."},
    )
    assert ReviewRemark.objects.get().author == ddets_reader
    page = ddets.get(reverse("conventions:detail", args=[signed.pk]))
    content = page.content.decode()
    assert "Point de vigilance sur le Vercors." in content
    assert "Réseau actif." in content
    # The DDETS reads, with its remark form only.
    assert reverse("conventions:review_remark", args=[review.pk]) in content
    for name in ("payment_add", "review_add", "amendment", "renew"):
        assert reverse(f"conventions:{name}", args=[signed.pk]) not in content, name
    member = client_for(candidate)
    member_page = text_of(member.get(reverse("conventions:my_convention", args=[signed.pk])))
    assert "Réseau actif." in member_page
    assert "Point de vigilance" not in member_page  # the DDETS's remarks stay between staff


def test_the_member_enters_indicator_values_and_sees_the_chart(
    signed, indicators, candidate, client_for
):
    client = client_for(candidate)
    url = reverse("conventions:indicators", args=[signed.pk])
    page = client.get(f"{url}?trimestre=2")
    assert page.status_code == 200
    meetings, disability = indicators
    response = client.post(
        url,
        {
            "period": "2",
            f"value_{meetings.pk}": "3",
            f"comment_{meetings.pk}": "Dont une à Villard-de-Lans",
            f"value_{disability.pk}": "",
        },
    )
    assert response["Location"] == f"{url}?trimestre=2"
    assert list(IndicatorValue.objects.values_list("indicator", "period", "value")) == [
        (meetings.pk, 2, Decimal("3.00"))
    ]
    refused = client.post(url, {"period": "2", f"value_{meetings.pk}": "-1"})
    assert refused.status_code == 400
    page = client.get(reverse("conventions:my_convention", args=[signed.pk])).content.decode()
    assert 'data-kind="indicator"' in page
    assert "Réunions du réseau co-animées : valeurs par trimestre" in page
    assert "3 / 8 (38 %)" in " ".join(page.split())


def test_renewal_from_the_page(signed, instructeur, client_for):
    client = client_for(instructeur)
    response = client.post(reverse("conventions:renew", args=[signed.pk]))
    renewal = Convention.objects.get(renews=signed)
    assert response["Location"] == reverse("conventions:detail", args=[renewal.pk])
    again = client.post(reverse("conventions:renew", args=[signed.pk]), follow=True)
    assert any("déjà été reconduite" in m for m in messages_of(again))
    page = client.get(reverse("conventions:detail", args=[signed.pk])).content.decode()
    assert renewal.number in page


def test_the_call_indicators_page_saves_a_formset_and_the_terms(
    call, selected_decision, instructeur, client_for
):
    client = client_for(instructeur)
    url = reverse("conventions:call_indicators", args=[call.pk])
    assert client.get(url).status_code == 200
    assert url in client.get(reverse("aap:backoffice_call", args=[call.pk])).content.decode()
    data = {
        **template_data(
            call,
            advance_percent="40",
            advance_days="20",
            balance_condition="intermediate_report",
            obligations="Le bénéficiaire anime le réseau et rend compte chaque trimestre.",
        ),
        "items-TOTAL_FORMS": "1",
        "items-0-position": "1",
        "items-0-label": "Événements avec des bailleurs sociaux",
        "items-0-unit": "événements",
        "items-0-kind": "cumulative",
        "items-0-target": "2,5",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    indicator = call.indicators.get()
    assert (indicator.label, indicator.target) == (
        "Événements avec des bailleurs sociaux",
        Decimal("2.5"),
    )
    terms = services.funding_terms(call)
    assert (terms.advance_percent, terms.balance_condition) == (
        Decimal("40"),
        "intermediate_report",
    )
    # The call's template: each new agreement of the call starts from it.
    convention = services.create_convention(selected_decision, by=instructeur)
    assert convention.obligations == (
        "Le bénéficiaire anime le réseau et rend compte chaque trimestre."
    )
    assert convention.payments.get(label="Solde").condition == "intermediate_report"
    assert "le solde est versé après validation du bilan intermédiaire" in convention.payment_terms


# --- The PDF ---------------------------------------------------------------------------------------


def test_the_pdf_carries_every_particular(indicators, signed, instructeur, candidate, client_for):
    response = client_for(instructeur).get(reverse("conventions:pdf", args=[signed.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{signed.number}.pdf"'
    content = b"".join(response.streaming_content)
    text = pdf_text(content, order="reading")
    for expected in [
        "Département de l'Isère, Direction des solidarités, Service Insertion Vers l'Emploi, "
        "représenté par le Président du Département",
        ORGANISATION,
        "SIRET 73282932000074",
        "représenté(e) par Claire Présidente, Présidente",
        signed.number,
        "Vu la décision d'attribution du 6 décembre 2026",
        "du 1 janvier 2027 au 31 décembre 2027",
        "24 500,00 €",
        "0,5 équivalent(s) temps plein",
        "La subvention représente 100 % du coût total de l'action",
        "Avance à la signature",
        "À la signature de la convention",
        "12 250,00 €",
        "Solde",
        "Après validation du bilan final et du compte rendu financier (CERFA n° 15059)",
        "Bilan intermédiaire, avant le 16 juillet 2027",
        "Compte rendu financier (CERFA n° 15059), avant le 31 janvier 2028",
        "Réunions du réseau co-animées",
        "points d'étape",
        "Article 8 – Communication",
        "avenant signé par les deux parties",
        "tribunal administratif de Grenoble",
        "Pour le bénéficiaire",
        "Pour le Département de l'Isère",
        "Version envoyée pour signature le 6 décembre 2026 à 10h00",
    ]:
        assert expected in text, expected
    assert "PROJET" not in text
    member_pdf = client_for(candidate).get(reverse("conventions:my_pdf", args=[signed.pk]))
    assert b"".join(member_pdf.streaming_content) == content


def test_a_draft_pdf_is_marked_and_user_text_reads_no_file(convention, instructeur, client_for):
    Convention.objects.filter(pk=convention.pk).update(
        object='<link rel="attachment" href="file:///etc/passwd"> Objet'
    )
    response = client_for(instructeur).get(reverse("conventions:pdf", args=[convention.pk]))
    text = pdf_text(response.content, order="reading")
    assert "PROJET" in text
    assert '<link rel="attachment"' in text  # shown as text, never followed
    out = subprocess.run(
        ["pdfdetach", "-list", "-"], input=response.content, capture_output=True, check=False
    )
    assert b"passwd" not in out.stdout


# --- Dashboard and exports -----------------------------------------------------------------------


def test_the_dashboard_shows_money_flags_and_filters(signed, instructeur, client_for):
    pay(signed.payments.get(label="Avance à la signature"), instructeur)
    Report.objects.filter(convention=signed, kind=ReportKind.INTERMEDIATE).update(
        due_on=timezone.localdate() - dt.timedelta(days=1)
    )
    client = client_for(instructeur)
    response = client.get(reverse("conventions:dashboard"))
    page = text_of(response)
    assert signed.number in page
    assert "Engagé (conventions signées) 24 500,00 €" in page
    assert "Versé 12 250,00 €" in page
    assert "Reste à verser 12 250,00 €" in page
    assert "Bilan en retard" in page
    assert response.content.decode().count('data-kind="money"') == 3
    renewal = services.renew_convention(signed, by=instructeur)
    next_year = client.get(reverse("conventions:dashboard"), {"year": str(renewal.year)})
    assert next_year.context["conventions"] == [renewal]
    assert next_year.context["totals"]["committed"] == 0  # a draft commits nothing
    by_lot = client.get(reverse("conventions:dashboard"), {"lot": str(signed.lot_id)})
    assert set(by_lot.context["conventions"]) == {signed, renewal}


def test_xlsx_exports_neutralise_formulas(signed, instructeur, client_for):
    Convention.objects.filter(pk=signed.pk).update(beneficiary_name="=cmd|' /C calc'!A0")
    Payment.objects.filter(pk=signed.payments.first().pk).update(label="=cmd")  # test data
    client = client_for(instructeur)
    for what, column in (("conventions", 5), ("versements", 4)):
        response = client.get(reverse("conventions:export", args=[what]))
        assert response["Content-Disposition"] == f'attachment; filename="{what}.xlsx"'
        sheet = load_workbook(io.BytesIO(response.content)).active
        values = [row[column - 1] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert all(not str(value).startswith("=") for value in values), values
        assert any(str(value).startswith("'=cmd") for value in values), values
    conventions = load_workbook(
        io.BytesIO(client.get(reverse("conventions:export", args=["conventions"])).content)
    ).active
    header = [cell.value for cell in conventions[1]]
    row = dict(zip(header, next(conventions.iter_rows(min_row=2, values_only=True)), strict=True))
    assert row["Montant (€)"] == 24500
    assert row["Reste à verser (€)"] == 24500
    assert client.get(reverse("conventions:export", args=["autre"])).status_code == 404


# --- The organisation's pages ---------------------------------------------------------------------


def test_the_member_sees_payments_received_and_expected(signed, instructeur, candidate, client_for):
    pay(signed.payments.get(label="Avance à la signature"), instructeur)
    client = client_for(candidate)
    listing = text_of(client.get(reverse("conventions:my_conventions")))
    assert signed.number in listing
    page = text_of(client.get(reverse("conventions:my_convention", args=[signed.pk])))
    assert "Reçu : 12 250,00 € ; reste à recevoir : 12 250,00 €." in page
    assert f"31 mars {signed.year + 1}" in page  # the balance's due date, written in full
    dossier = client.get(reverse("candidatures:dossier", args=[signed.candidature_id]))
    assert reverse("conventions:my_convention", args=[signed.pk]) in dossier.content.decode()
    scan = client.get(reverse("conventions:my_scan", args=[signed.pk]))
    assert b"".join(scan.streaming_content) == PDF


def test_the_dashboard_links_to_the_open_data_only_when_it_can_be_served(
    signed, instructeur, client_for, settings
):
    client = client_for(instructeur)
    link = f'href="{reverse("conventions:opendata")}"'

    page = client.get(reverse("conventions:dashboard")).content.decode()
    assert link in page
    assert client.get(reverse("conventions:opendata")).status_code == 200

    settings.AUTHORITY_SIRET = ""
    page = client.get(reverse("conventions:dashboard")).content.decode()
    assert link not in page  # no link to a page that would answer 503
    assert "variable <code>AUTHORITY_SIRET</code>, 14 chiffres" in page


@pytest.mark.parametrize("siret", ["", "1234"])
def test_no_valid_siret_no_open_data(settings, client, siret):
    settings.AUTHORITY_SIRET = siret
    response = client.get(reverse("conventions:opendata"))
    assert response.status_code == 503
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "AUTHORITY_SIRET" in response.content.decode()
    assert "SIRET de la collectivité" in response.content.decode()


def test_a_decision_rectified_after_its_notification_is_flagged_on_the_agreement(
    signed, selected_decision, instructeur, ddets_reader, client_for
):
    detail = reverse("conventions:detail", args=[signed.pk])
    assert "Décision rectifiée" not in text_of(client_for(instructeur).get(detail))
    # Recorded as the evaluation records it (its own tests cover the service).
    DecisionRectification.objects.create(
        decision=selected_decision,
        reason="Erreur matérielle sur le montant.",
        by=instructeur,
        old_outcome="selected",
        old_amount=Decimal("24500"),
        old_fte=Decimal("0.5"),
        new_outcome="selected",
        new_amount=Decimal("20000"),
        new_fte=Decimal("0.5"),
    )
    for user in (instructeur, ddets_reader):
        page = text_of(client_for(user).get(detail))
        assert (
            "Décision rectifiée le 6 décembre 2026 à 10h00 : Retenu → Retenu "
            "(24 500,00 € → 20 000,00 €). Motif : Erreur matérielle sur le montant."
        ) in page
        assert "elle ne change que par un avenant signé" in page


def test_the_draft_is_edited_and_previewed_from_its_page(convention, instructeur, client_for):
    client = client_for(instructeur)
    detail = reverse("conventions:detail", args=[convention.pk])
    assert reverse("conventions:draft", args=[convention.pk]) in client.get(detail).content.decode()
    data = draft_data(
        convention,
        period_start="2027-02-01",
        period_end="2028-01-31",
        object="Co-animer le réseau des facilitateurs du Nord Isère.",
        subsidy_share="0,8",
    )
    early = client.post(
        reverse("conventions:draft", args=[convention.pk]),
        {**data, "draft-period_start": "2026-11-01"},
        follow=True,
    )
    assert any("avant la décision du 6 décembre 2026" in m for m in messages_of(early))
    client.post(reverse("conventions:draft", args=[convention.pk]), data)
    convention.refresh_from_db()
    assert (convention.period_start, convention.subsidy_share) == (
        dt.date(2027, 2, 1),
        Decimal("0.8"),
    )
    preview = pdf_text(client.get(reverse("conventions:pdf", args=[convention.pk])).content)
    assert "PROJET" in preview and "Nord Isère" in preview
    assert "La subvention représente 80 % du coût total de l'action" in preview
    services.send_for_signature(convention, by=instructeur)
    refused = client.post(reverse("conventions:draft", args=[convention.pk]), data, follow=True)
    assert any("son texte ne change plus" in m for m in messages_of(refused))
    assert (
        reverse("conventions:draft", args=[convention.pk])
        not in client.get(detail).content.decode()
    )

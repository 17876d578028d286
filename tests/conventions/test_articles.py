"""The text of an agreement: every article comes from the call's template (its page
« Conventions »), is copied into each new agreement, edited in its draft and previewed,
and frozen once sent, whatever the path. Figures are the agreement's, through known
placeholders; a hostile text is shown as text, never run."""

import pytest
from django.conf import settings
from django.urls import reverse

from conventions import articles, services
from conventions.articles import ARTICLE_FIELDS
from conventions.models import ContentLocked, Convention
from core.exceptions import DomainError
from tests.conventions.conftest import draft_data, template_data
from tests.conventions.test_pages import messages_of
from tests.pdf import pdf_text

HOSTILE = (
    "Mention {{ settings.SECRET_KEY }} et <script>alert('convention')</script> puis "
    "{% load static %}{% debug %} fin."
)


def stored_text(convention) -> str:
    convention.refresh_from_db()
    with convention.document.open("rb") as handle:
        return pdf_text(handle.read(), order="reading")


def preview_text(client, convention) -> str:
    response = client.get(reverse("conventions:pdf", args=[convention.pk]))
    assert response.status_code == 200
    return pdf_text(response.content, order="reading")


def send(client, convention):
    url = reverse("conventions:transition", args=[convention.pk, "send"])
    response = client.post(url, {"send-note": ""}, follow=True)
    assert "La convention est envoyée pour signature." in messages_of(response)


# --- The call's template ------------------------------------------------------------------------


def test_the_call_template_gives_each_new_agreement_its_articles(
    call, selected_decision, instructeur, client_for
):
    client = client_for(instructeur)
    page = reverse("conventions:call_indicators", args=[call.pk])
    response = client.post(
        page,
        template_data(
            call,
            communication_text="Le bénéficiaire affiche le logo du Département sur le site "
            "de chaque chantier, dès le {debut}.",
            disputes_text="Tout litige relève du tribunal administratif de Grenoble, après "
            "une conciliation de deux mois.",
        ),
    )
    assert response.status_code == 302
    assert "Article 8 – Communication" in client.get(page).content.decode()
    created = client.post(
        reverse("conventions:create", args=[selected_decision.pk]),
        {"period_start": "2027-01-01", "period_end": "2027-12-31"},
    )
    assert created.status_code == 302
    convention = Convention.objects.get(candidature=selected_decision.candidature)
    # The template's own text, the call's data in place, the figures left for the PDF.
    assert convention.communication_text.endswith("dès le {debut}.")
    assert convention.object.startswith(f"{call.title} – lot {selected_decision.lot.name}.")
    text = preview_text(client, convention)
    for expected in (
        "PROJET",
        "Article 8 – Communication Le bénéficiaire affiche le logo du Département sur le "
        "site de chaque chantier, dès le 1 janvier 2027.",
        "Article 11 – Litiges Tout litige relève du tribunal administratif de Grenoble, après "
        "une conciliation de deux mois.",
        # The articles left as they were keep today's wording.
        "Article 2 – Durée La convention couvre la période du 1 janvier 2027 au 31 décembre 2027.",
        "formulaire CERFA n° 15059",
        "article 10 de la loi n° 2000-321 du 12 avril 2000",
        "fait l'objet d'un avenant signé par les deux parties",
        "après mise en demeure restée sans effet",
    ):
        assert expected in text, expected
    assert "Le bénéficiaire mentionne le soutien" not in text
    # A copy: the template edited afterwards leaves the prepared agreement as it is.
    client.post(page, template_data(call, communication_text="Un autre texte de modèle."))
    convention.refresh_from_db()
    assert convention.communication_text.startswith("Le bénéficiaire affiche le logo")


def test_the_call_template_refuses_an_unknown_placeholder(call, instructeur, client_for):
    page = reverse("conventions:call_indicators", args=[call.pk])
    response = client_for(instructeur).post(
        page, template_data(call, amount_text="Une subvention de {montnat}.")
    )
    assert response.status_code == 400
    assert "{montnat} n&#x27;est pas un emplacement connu ici" in response.content.decode()
    assert services.funding_terms(call).amount_text == articles.DEFAULT_AMOUNT


# --- The draft ----------------------------------------------------------------------------------


def test_an_article_edited_in_the_draft_is_previewed_then_sent(convention, instructeur, client_for):
    client = client_for(instructeur)
    assert 'name="draft-termination_text"' in (
        client.get(reverse("conventions:detail", args=[convention.pk])).content.decode()
    )
    response = client.post(
        reverse("conventions:draft", args=[convention.pk]),
        draft_data(
            convention,
            termination_text="Le Département peut résilier la convention après un mois de "
            "mise en demeure restée sans effet.",
            reports_text="Le compte rendu financier suit le formulaire CERFA n° 15059.",
        ),
        follow=True,
    )
    assert "Le projet de convention est enregistré." in messages_of(response)
    preview = preview_text(client, convention)
    assert "PROJET" in preview
    expected = (
        "Article 10 – Résiliation Le Département peut résilier la convention après un mois de "
        "mise en demeure restée sans effet."
    )
    assert expected in preview
    assert "Le compte rendu financier suit le formulaire CERFA n° 15059." in preview
    send(client, convention)
    sent = stored_text(convention)
    assert expected in sent and "PROJET" not in sent
    assert "demander le reversement des sommes indûment perçues" not in sent


def test_placeholders_give_the_agreements_figures_as_the_departement_writes_them(
    convention, instructeur, client_for
):
    client = client_for(instructeur)
    amount_text = (
        "Subvention de {montant} pour {etp} ETP, du {debut} au {fin}, soit "
        "{part_cofinancement} du coût de l'action ; décision du {decision}."
    )
    client.post(
        reverse("conventions:draft", args=[convention.pk]),
        draft_data(
            convention,
            subsidy_share="0,8",
            amount_text=amount_text,
            obligations="Le bénéficiaire emploie {etp} ETP jusqu'au {fin}.",
        ),
    )
    convention.refresh_from_db()
    assert convention.amount_text == amount_text  # stored as typed
    assert (
        "Subvention de 24 500,00 € pour 0,5 ETP, du 1 janvier 2027 au 31 décembre 2027, soit "
        "80 % du coût de l'action ; décision du 6 décembre 2026."
    ) in preview_text(client, convention)
    page = client.get(reverse("conventions:detail", args=[convention.pk])).content.decode()
    assert "Le bénéficiaire emploie 0,5 ETP jusqu&#x27;au 31 décembre 2027." in page
    # A new period: the figures follow it in the draft.
    client.post(
        reverse("conventions:draft", args=[convention.pk]),
        draft_data(convention, period_start="2027-02-01", period_end="2028-01-31"),
    )
    assert "du 1 février 2027 au 31 janvier 2028, soit 80 % du coût" in (
        preview_text(client, convention)
    )


def test_placeholders_are_replaced_once_and_only_when_known():
    values = {"montant": "{etp}", "etp": "0,5"}
    # A value is never read again for placeholders; unknown names stay as typed.
    assert articles.fill("{montant} / {etp} / {inconnu} / {{ etp }}", values) == (
        "{etp} / 0,5 / {inconnu} / {{ etp }}"
    )


def test_an_unknown_placeholder_is_refused_in_the_draft(convention, instructeur, client_for):
    with pytest.raises(DomainError, match=r"\{actions\} n'est pas un emplacement connu ici"):
        services.update_draft(
            convention,
            by=instructeur,
            period_start=convention.period_start,
            period_end=convention.period_end,
            object="Objet : {actions}",  # the call's data is replaced at creation only
        )
    response = client_for(instructeur).post(
        reverse("conventions:draft", args=[convention.pk]),
        draft_data(convention, disputes_text="Tribunal de {tribunal}."),
        follow=True,
    )
    assert any("{tribunal} n'est pas un emplacement connu ici" in m for m in messages_of(response))
    with pytest.raises(DomainError, match="le texte est vide"):
        services.update_draft(
            convention,
            by=instructeur,
            period_start=convention.period_start,
            period_end=convention.period_end,
            disputes_text="  ",
        )
    convention.refresh_from_db()
    assert convention.disputes_text == articles.DEFAULT_DISPUTES


def test_a_hostile_text_is_shown_as_text(call, selected_decision, instructeur, client_for):
    client = client_for(instructeur)
    client.post(
        reverse("conventions:call_indicators", args=[call.pk]),
        template_data(call, communication_text=HOSTILE),
    )
    convention = services.create_convention(selected_decision, by=instructeur)
    assert convention.communication_text == HOSTILE
    client.post(
        reverse("conventions:draft", args=[convention.pk]),
        draft_data(convention, obligations=HOSTILE),
    )
    text = preview_text(client, convention)
    assert text.count(HOSTILE) == 2
    assert settings.SECRET_KEY not in text
    page = client.get(reverse("conventions:detail", args=[convention.pk])).content.decode()
    assert "&lt;script&gt;alert(&#x27;convention&#x27;)&lt;/script&gt;" in page
    assert "<script>alert" not in page and settings.SECRET_KEY not in page
    send(client, convention)
    assert stored_text(convention).count(HOSTILE) == 2


# --- Frozen once sent ---------------------------------------------------------------------------


@pytest.fixture
def sent(convention, instructeur):
    return services.send_for_signature(convention, by=instructeur)


@pytest.mark.parametrize("name", ARTICLE_FIELDS)
def test_no_article_changes_once_sent(sent, name, instructeur, client_for):
    before = getattr(sent, name)
    with pytest.raises(DomainError, match="son texte ne change plus"):
        services.update_draft(
            sent,
            by=instructeur,
            period_start=sent.period_start,
            period_end=sent.period_end,
            **{name: "Un autre texte."},
        )
    response = client_for(instructeur).post(
        reverse("conventions:draft", args=[sent.pk]),
        draft_data(sent, **{name: "Un autre texte."}),
        follow=True,
    )
    assert any("son texte ne change plus" in m for m in messages_of(response))
    row = Convention.objects.get(pk=sent.pk)
    setattr(row, name, "Un autre texte.")
    with pytest.raises(ContentLocked, match="envoyée pour signature"):
        row.save()
    assert getattr(Convention.objects.get(pk=sent.pk), name) == before


def test_the_admin_shows_the_articles_read_only(sent, admin_user, client):
    client.force_login(admin_user)
    url = reverse("admin:conventions_convention_change", args=[sent.pk])
    page = client.get(url).content.decode()
    assert "Article 11 – Litiges" in page and 'name="disputes_text"' not in page
    assert client.post(url, {"disputes_text": "Autre", "_save": "1"}).status_code == 403
    assert Convention.objects.get(pk=sent.pk).disputes_text == articles.DEFAULT_DISPUTES


def test_a_renewal_keeps_the_articles_with_its_own_figures(convention, instructeur, client_for):
    services.update_draft(
        convention,
        by=instructeur,
        period_start=convention.period_start,
        period_end=convention.period_end,
        modification_text="Toute modification fait l'objet d'un avenant ({fin}).",
    )
    renewal = services.renew_convention(convention, by=instructeur)
    assert renewal.modification_text == convention.modification_text
    text = preview_text(client_for(instructeur), renewal)
    assert "Toute modification fait l'objet d'un avenant (31 décembre 2028)." in text

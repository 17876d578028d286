"""The articles of an agreement. The call's template (``FundingTerms``) holds the text of
each article, today's wording by default; a new agreement copies it into its own fields
and staff edit them while it is a draft.

A text may name placeholders in braces. They are replaced by plain substitution of known
names, in one pass, never through a template language, and the result is user text that
the templates escape (``rich_text``):

- the agreement's figures (``FIGURES``), at every display and in the PDF, so that they
  follow the draft's period and share and are frozen with the PDF once it is sent;
- the call's data (``CALL_DATA``), in the call's template only, once, when an agreement
  is created from it.
"""

import re

from django.core.exceptions import ValidationError
from django.template.defaultfilters import floatformat
from django.utils.deconstruct import deconstructible
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

DEFAULT_OBJECT = (
    "{appel} – lot {lot}. Le bénéficiaire met en œuvre l'action décrite dans son dossier de "
    "candidature, notamment :\n{actions}"
)
DEFAULT_DURATION = "La convention couvre la période du {debut} au {fin}."
DEFAULT_AMOUNT = (
    "Le Département attribue au bénéficiaire une subvention de {montant} pour le financement "
    "de {etp} équivalent(s) temps plein (ETP) consacré(s) à l'action.\n\n"
    "La subvention représente {part_cofinancement} du coût total de l'action."
)
DEFAULT_PAYMENT_TERMS = (
    "Une avance de {avance} du montant est versée dans les {delai_avance} jours suivant la "
    "signature ; le solde est versé {condition_solde}."
)
DEFAULT_OBLIGATIONS = (
    "Le bénéficiaire remet un bilan intermédiaire, un bilan final d'activité et le compte "
    "rendu financier de la subvention, renseigne les indicateurs de suivi chaque trimestre, "
    "participe aux points d'étape organisés avec le Département et la DDETS, et mentionne le "
    "soutien du Département de l'Isère dans sa communication."
)
DEFAULT_REPORTS = (
    "Le compte rendu financier (formulaire CERFA n° 15059) retrace l'emploi de la subvention "
    "conformément à l'article 10 de la loi n° 2000-321 du 12 avril 2000. Chaque bilan est "
    "examiné par le Service Insertion Vers l'Emploi, qui le valide ou le renvoie au "
    "bénéficiaire en motivant sa demande."
)
DEFAULT_FOLLOWUP = (
    "Des points d'étape réunissent le Département, la Direction départementale de l'emploi, "
    "du travail et des solidarités (DDETS) et le bénéficiaire pendant l'exécution de la "
    "convention. Ils examinent l'avancement de l'action et les indicateurs de suivi, et "
    "peuvent décider d'ajustements, consignés dans un compte rendu."
)
DEFAULT_COMMUNICATION = (
    "Le bénéficiaire mentionne le soutien du Département de l'Isère sur les documents et "
    "supports relatifs à l'action, et y fait figurer son logo."
)
DEFAULT_MODIFICATION = (
    "Toute modification du montant, de la durée ou de l'échéancier fait l'objet d'un avenant "
    "signé par les deux parties."
)
DEFAULT_TERMINATION = (
    "En cas de non-respect de ses obligations par le bénéficiaire, le Département peut "
    "résilier la présente convention, après mise en demeure restée sans effet, et demander "
    "le reversement des sommes indûment perçues."
)
DEFAULT_DISPUTES = (
    "Les parties recherchent d'abord une solution amiable. À défaut, tout litige relatif à la "
    "présente convention relève du tribunal administratif de Grenoble."
)

# Each article's field (on the call's template and on the agreement), in the PDF's order,
# with its title and today's wording. Articles 4, 6 and 7 are followed in the PDF by what
# the agreement's data generates: the schedule, the reports due and the indicators.
ARTICLES = (
    ("object", gettext_lazy("Article 1 – Objet"), DEFAULT_OBJECT),
    ("duration_text", gettext_lazy("Article 2 – Durée"), DEFAULT_DURATION),
    (
        "amount_text",
        gettext_lazy("Article 3 – Montant de la subvention et moyens"),
        DEFAULT_AMOUNT,
    ),
    ("payment_terms", gettext_lazy("Article 4 – Modalités de versement"), DEFAULT_PAYMENT_TERMS),
    ("obligations", gettext_lazy("Article 5 – Obligations du bénéficiaire"), DEFAULT_OBLIGATIONS),
    (
        "reports_text",
        gettext_lazy("Article 6 – Bilans et compte rendu financier"),
        DEFAULT_REPORTS,
    ),
    ("followup_text", gettext_lazy("Article 7 – Suivi et points d'étape"), DEFAULT_FOLLOWUP),
    ("communication_text", gettext_lazy("Article 8 – Communication"), DEFAULT_COMMUNICATION),
    ("modification_text", gettext_lazy("Article 9 – Modification"), DEFAULT_MODIFICATION),
    ("termination_text", gettext_lazy("Article 10 – Résiliation"), DEFAULT_TERMINATION),
    ("disputes_text", gettext_lazy("Article 11 – Litiges"), DEFAULT_DISPUTES),
)
ARTICLE_FIELDS = tuple(name for name, _title, _default in ARTICLES)
TITLES = {name: title for name, title, _default in ARTICLES}
DEFAULTS = {name: default for name, _title, default in ARTICLES}

# The agreement's figures, replaced at every display and in the PDF.
FIGURES = {
    "montant": gettext_lazy("le montant de la subvention (« 24 500,00 € »)"),
    "etp": gettext_lazy("les ETP financés (« 0,5 »)"),
    "debut": gettext_lazy("le début de la convention (« 1 janvier 2027 »)"),
    "fin": gettext_lazy("la fin de la convention (« 31 décembre 2027 »)"),
    "part_cofinancement": gettext_lazy(
        "la part de la subvention dans le coût de l'action (« 80 % »)"
    ),
    "decision": gettext_lazy("la date de la décision (« 6 décembre 2026 »)"),
}
# The call's data, replaced once in the call's template when an agreement is created.
CALL_DATA = {
    "appel": gettext_lazy("l'intitulé de l'appel"),
    "lot": gettext_lazy("le nom du lot"),
    "actions": gettext_lazy("les actions attendues de l'appel, une par ligne"),
    "avance": gettext_lazy("la part versée en avance (« 50 % »)"),
    "delai_avance": gettext_lazy("le délai de l'avance en jours"),
    "condition_solde": gettext_lazy("la condition du solde"),
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def fill(text: str, values: dict) -> str:
    """``text`` with each ``{name}`` of ``values`` replaced by its value, in one pass (a
    value is never read again for placeholders); unknown names are left as they are."""
    return _PLACEHOLDER.sub(
        lambda match: str(values.get(match.group(1), match.group(0))), text or ""
    )


def unknown_placeholders(text: str, known) -> list[str]:
    return sorted({f"{{{name}}}" for name in _PLACEHOLDER.findall(text or "") if name not in known})


def placeholder_problem(name: str, text: str, *, template: bool) -> str | None:
    """A French message if ``text`` (the article ``name``) names a placeholder that is not
    replaced there; ``template``: the call's template, where the call's data is too."""
    known = {**FIGURES, **CALL_DATA} if template else FIGURES
    unknown = unknown_placeholders(text, known)
    if not unknown:
        return None
    return _(
        "%(article)s : %(unknown)s n'est pas un emplacement connu ici. Emplacements "
        "possibles : %(known)s."
    ) % {
        "article": TITLES[name],
        "unknown": ", ".join(unknown),
        "known": ", ".join(f"{{{key}}}" for key in known),
    }


@deconstructible
class TemplatePlaceholders:
    """The validator of a text of the call's template: only known placeholders."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, text):
        if problem := placeholder_problem(self.name, text, template=True):
            raise ValidationError(problem)

    def __eq__(self, other):
        return isinstance(other, TemplatePlaceholders) and other.name == self.name


def placeholders_help(*, template: bool) -> str:
    figures = "; ".join(f"{{{name}}} : {label}" for name, label in FIGURES.items())
    if not template:
        return _("Emplacements remplacés par les chiffres de la convention : %(figures)s.") % {
            "figures": figures
        }
    call_data = "; ".join(f"{{{name}}} : {label}" for name, label in CALL_DATA.items())
    return _(
        "Emplacements remplacés par les chiffres de chaque convention, à chaque affichage : "
        "%(figures)s. Remplacés une fois, à la création de la convention : %(call)s."
    ) % {"figures": figures, "call": call_data}


def _euros(value) -> str:
    """Decimal("24500") → "24 500,00 €", as the ``euros`` filter writes it."""
    text = number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{text}\xa0€" if value is not None else ""


def _fte(value) -> str:
    return f"{value.normalize():f}".replace(".", ",") if value is not None else ""


def _day(value) -> str:
    return date_format(value, "DATE_FORMAT") if value else ""


def figures(convention) -> dict[str, str]:
    """The agreement's figures as the Département writes them."""
    share = convention.subsidy_share
    return {
        "montant": _euros(convention.amount),
        "etp": _fte(convention.fte),
        "debut": _day(convention.period_start),
        "fin": _day(convention.period_end),
        "part_cofinancement": f"{floatformat(share * 100, '-2')}\xa0%" if share else "",
        "decision": _day(convention.decision_date),
    }


def filled(convention, name: str) -> str:
    """The text of the article ``name`` of ``convention``, its figures in place."""
    return fill(getattr(convention, name), figures(convention))

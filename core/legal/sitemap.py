"""The sections of the « Plan du site »: the public pages, then those each role reaches.

Built from URL names, so that a page renamed or removed breaks a test rather than leaving
a dead link (``tests/core/test_legal_pages.py`` follows every link for every persona).
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core import rules


@dataclass(frozen=True)
class Section:
    title: str
    links: list  # (label, url)


def _links(*named):
    return [(label, reverse(name)) for label, name in named]


def sections_for(user):
    sections = [
        Section(
            _("Appels à projets"),
            _links(
                (_("Accueil"), "aap:home"),
                (_("Tous les appels à projets"), "aap:call_list"),
            ),
        )
    ]
    if user.is_authenticated:
        sections.append(
            Section(
                _("Mon compte"),
                _links(
                    (_("Mon compte"), "accounts:profile"),
                    (_("Changer mon mot de passe"), "accounts:password_change"),
                    (_("Mes rappels"), "accounts:reminders"),
                    (_("Mon agenda (iCalendar)"), "accounts:calendar"),
                ),
            )
        )
    else:
        sections.append(
            Section(
                _("Compte"),
                _links(
                    (_("Se connecter"), "accounts:login"),
                    (_("Créer un compte"), "accounts:signup"),
                    (_("Mot de passe oublié"), "accounts:password_reset"),
                ),
            )
        )
    if rules.is_candidat(user):
        sections.append(
            Section(
                _("Espace candidat"),
                _links(
                    (_("Mes dossiers"), "candidatures:my_dossiers"),
                    (_("Mes conventions"), "conventions:my_conventions"),
                    (_("Déclarer une structure"), "candidatures:organisation_create"),
                ),
            )
        )
    if rules.is_instructeur(user):
        sections.append(
            Section(
                _("Gestion (Département)"),
                _links(
                    (_("Gestion des appels"), "aap:backoffice_calls"),
                    (_("Créer un appel à projets"), "aap:backoffice_create"),
                    (_("Classements"), "evaluation:rankings"),
                    (_("Conventions"), "conventions:dashboard"),
                ),
            )
        )
    elif rules.is_ddets_reader(user):
        sections.append(
            Section(
                _("Suivi (DDETS)"),
                _links(
                    (_("Classements"), "evaluation:rankings"),
                    (_("Conventions"), "conventions:dashboard"),
                ),
            )
        )
    if rules.is_evaluator(user):
        sections.append(
            Section(_("Évaluation"), _links((_("Mes évaluations"), "evaluation:my_evaluations")))
        )
    if user.is_superuser:
        sections.append(Section(_("Administration"), _links((_("Administration"), "admin:index"))))
    sections.append(
        Section(
            _("Informations légales"),
            _links(
                (_("Mentions légales"), "legal:notice"),
                (_("Données personnelles"), "legal:privacy"),
                (_("Accessibilité"), "legal:accessibility"),
                (_("Plan du site"), "legal:sitemap"),
            ),
        )
    )
    return sections

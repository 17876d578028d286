"""What the annexes say, and how they are packed: the blocks of the text documents, the
zip packaging, and the calendar placeholders ``{year}``, ``{deadline}`` and ``{start}``
that ``demo.modeles`` fills from each call's calendar."""

import io
import zipfile
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple


class Placeholders:
    """Stands for a call's calendar while the templates are built: their texts keep
    ``{year}``, ``{deadline}`` and ``{start}``, filled when a call's copy is made."""

    year = "{year}"

    def fill(self, text: str) -> str:
        return text


PLACEHOLDERS = Placeholders()

CALL_TITLE = "Appel à projets {year} – Co-animation du réseau des facilitateurs clauses sociales"
CALL_AUTHORITY = (
    "Département de l'Isère, Direction des solidarités, Service Insertion Vers l'Emploi"
)

#: The eight expected actions of section 2 of the call ("attendus du Département").
EXPECTED_ACTIONS: tuple[str, ...] = (
    "La co-animation de réunions en présentiel",
    "La gestion d'un espace numérique de collaboration",
    "La recherche d'apports et outils permettant de nourrir et de renforcer l'expertise métier",
    "La co-construction d'actions, événements, temps forts communs pour développer des "
    "partenariats avec différents donneurs d'ordre (bailleurs…)",
    "Le développement du partenariat avec le secteur du handicap",
    "La co-production d'un bilan départemental des clauses sociales",
    "L'articulation avec l'animation existante au niveau régional et au niveau national",
    "La contribution à des projets divers (priorités annuelles du réseau, participation à la "
    "communication, etc.)",
)

# The call was launched on 31 July 2024: used as the creation date of every document.
_CREATED = datetime(2024, 7, 31)
_CREATED_W3CDTF = _CREATED.strftime("%Y-%m-%dT%H:%M:%SZ")
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NBSP = "\u00a0"
_CHECKBOX = "☐"


# --------------------------------------------------------------------------------------
# Document content, shared by the DOCX and ODT renderers
# --------------------------------------------------------------------------------------


class _Block(NamedTuple):
    """One element of a text document.

    ``kind`` is one of: ``title``, ``subtitle``, ``h1``, ``h2``, ``text``, ``hint`` (guidance
    in italics), ``field`` (a label followed by a dotted line to write on), ``check`` (a box
    to tick) or ``box`` (a framed answer space of ``lines`` empty lines).
    """

    kind: str
    text: str = ""
    lines: int = 0


def _title(text: str) -> _Block:
    return _Block("title", text)


def _subtitle(text: str) -> _Block:
    return _Block("subtitle", text)


def _h1(text: str) -> _Block:
    return _Block("h1", text)


def _h2(text: str) -> _Block:
    return _Block("h2", text)


def _text(text: str) -> _Block:
    return _Block("text", text)


def _hint(text: str) -> _Block:
    return _Block("hint", text)


def _field(label: str) -> _Block:
    return _Block("field", label)


def _check(text: str) -> _Block:
    return _Block("check", text)


def _box(lines: int = 5) -> _Block:
    return _Block("box", lines=lines)


def _quoted(text: str) -> str:
    """French quotation marks, with the no-break spaces French typography requires."""
    return f"«{_NBSP}{text}{_NBSP}»"


def _funding_request_blocks(dates: Placeholders) -> list[_Block]:
    blocks = [
        _title("Dossier de demande de financement"),
        _subtitle(dates.fill(CALL_TITLE)),
        _subtitle(CALL_AUTHORITY),
        _hint(
            dates.fill(
                "Dossier à compléter et à retourner au plus tard le {deadline}, en deux "
                "exemplaires identiques : sous format papier (courrier recommandé avec "
                "accusé de réception ou dépôt en main propre contre récépissé) et sous version "
                "électronique à l'adresse dso.ive@isere.fr."
            )
        ),
        _hint(
            "Pièces à joindre : les budgets prévisionnels de l'action et de la structure, "
            "l'attestation d'engagement du représentant légal (selon les modèles joints) et "
            "les curriculum vitae des professionnels chargés de la mise en œuvre et du suivi "
            "du projet."
        ),
        _h1("1. Identification du porteur"),
        _field("Nom de la structure"),
        _field("Statut juridique (EPCI, GIP, association…)"),
        _field("N° SIRET"),
        _field("Adresse"),
        _field("Représentant légal (nom, prénom, qualité)"),
        _field("Personne chargée du dossier (nom, fonction)"),
        _field("Téléphone"),
        _field("Courriel"),
        _h1("2. Lot(s) sollicité(s)"),
        _hint("Cocher le ou les territoires sur lesquels porte la candidature."),
        _check("Lot Nord Isère – 0,5 ETP"),
        _check("Lot Sud Isère – 0,5 ETP"),
        _h1("3. Présentation du projet de co-animation"),
        _hint("Résumé du projet (une demi-page au maximum)."),
        _box(8),
        _h1("4. Actions prévues au regard des attendus du Département"),
        _hint(
            "Décliner de manière opérationnelle la nature des actions qui seront mises en "
            "œuvre pour chacun des attendus du Département, en précisant le détail des "
            "actions permettant de promouvoir les clauses sociales."
        ),
    ]
    for number, action in enumerate(EXPECTED_ACTIONS, start=1):
        blocks += [_h2(f"4.{number}. {action}"), _box(4)]
    blocks += [
        _h1("5. Territoire couvert et EPCI concernés"),
        _hint(
            "Préciser le territoire couvert et les EPCI concernés ; la capacité à couvrir un "
            "territoire comprenant plusieurs EPCI est un critère de sélection."
        ),
        _box(5),
        _h2("Attention portée au territoire du Vercors"),
        _hint(
            "La co-animation portera une attention particulière au territoire du Vercors, "
            "seul territoire de l'Isère non couvert à ce jour par un poste de facilitateur. "
            "Décrire l'appui envisagé aux acteurs de ce territoire et au Département pour y "
            "développer les clauses sociales."
        ),
        _box(5),
        _h1("6. Expérience des clauses sociales dans la pratique de la commande publique"),
        _hint(
            "Sensibilité à la question de l'insertion en général, politique volontariste du "
            "porteur sur son territoire, compétences en animation de réseau."
        ),
        _box(8),
        _h1("7. Moyens humains dédiés et environnement de travail"),
        _hint(
            "Personnes mobilisées (nom, fonction, nombre d'ETP consacrés à l'action), "
            "encadrement, locaux, outils et moyens matériels."
        ),
        _box(6),
        _h1("8. Partenariats (dont secteur du handicap)"),
        _hint(
            "Partenaires mobilisés ou envisagés : donneurs d'ordre, structures de l'insertion "
            "par l'activité économique, employeurs locaux, acteurs du secteur du handicap…"
        ),
        _box(6),
        _h1("9. Budget"),
        _field("Montant sollicité auprès du Département de l'Isère (€)"),
        _text("Cofinancements (financeur, montant, acquis ou sollicité) :"),
        _box(4),
        _hint("Joindre les budgets prévisionnels de l'action et de la structure (modèle joint)."),
        _h1("10. Date de démarrage envisagée"),
        _hint(dates.fill("Le démarrage de l'action est à envisager au plus tôt {start}.")),
        _field("Date de démarrage envisagée"),
        _h1("Signature"),
        _field("Fait à"),
        _field("Le"),
        _text("Signature du représentant légal et cachet de la structure :"),
        _box(4),
    ]
    return blocks


def _attestation_blocks(dates: Placeholders) -> list[_Block]:
    return [
        _title("Attestation d'engagement du représentant légal"),
        _subtitle(dates.fill(CALL_TITLE)),
        _subtitle(CALL_AUTHORITY),
        _field("Je soussigné(e) (nom, prénom)"),
        _field("agissant en qualité de"),
        _field("de la structure"),
        _field("N° SIRET"),
        _text(
            "certifie l'exactitude des informations fournies dans le dossier de candidature à "
            f"l'appel à projets {dates.year} "
            + _quoted("Co-animation du réseau des facilitateurs clauses sociales")
            + " du Département de l'Isère et dans les pièces qui l'accompagnent ;"
        ),
        _text("certifie que la structure est à jour de ses obligations sociales et fiscales ;"),
        _text(
            "m'engage à mettre en œuvre l'action décrite dans ce dossier, dans les conditions "
            "fixées par la convention de partenariat conclue avec le Département de l'Isère, "
            "et à participer aux points d'étape organisés avec le Département et la DDETS ;"
        ),
        _text(
            "m'engage à fournir les bilans demandés par le Département (bilans qualitatifs, "
            "quantitatifs et financiers de l'action) et à signaler sans délai toute "
            "modification de l'action ou de la structure."
        ),
        _field("Fait à"),
        _field("Le"),
        _text("Signature du représentant légal et cachet de la structure :"),
        _box(5),
    ]


# --------------------------------------------------------------------------------------
# Zip packaging
# --------------------------------------------------------------------------------------


def _zip(parts: Iterable[tuple[str, str | bytes]], *, stored: Iterable[str] = ()) -> bytes:
    """Write ``(name, content)`` parts into a zip archive, in the given order.

    The order matters: libmagic identifies OOXML and ODF files by their first members.
    Parts named in ``stored`` are written uncompressed (the ODF ``mimetype``).
    """
    stored = set(stored)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts:
            info = zipfile.ZipInfo(name, date_time=_CREATED.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()

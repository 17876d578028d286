"""Template files ("modèles en annexe") of the 2024 call for projects.

The call "Co-animation du réseau des facilitateurs clauses sociales" asks candidates to
fill in a funding-request form, the provisional budgets of the action and of the structure
and an undertaking signed by their legal representative, all "selon les modèles joints".
Those annexes are not part of the published call text, so the demo-data loader generates
them here: real office files (DOCX, ODT, XLSX) that candidates can download, open in their
word processor or spreadsheet and fill in, and that libmagic recognises by their content.

Only the standard library (``zipfile``, XML escaping) and openpyxl are used. Every function
returns the file as ``bytes``; the output of the text documents is deterministic (fixed
dates and zip timestamps).
"""

import io
import textwrap
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple
from xml.sax.saxutils import escape

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.worksheet.worksheet import Worksheet

from demo.dates import SEED_DATES, CallDates

# {year}, {deadline} and {start} are filled from the call's calendar (demo.dates).
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


def _funding_request_blocks(dates: CallDates) -> list[_Block]:
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


def _attestation_blocks(dates: CallDates) -> list[_Block]:
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


# --------------------------------------------------------------------------------------
# WordprocessingML (.docx)
# --------------------------------------------------------------------------------------

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml"

# A4 portrait with 2 cm margins, in twentieths of a point.
_A4_WIDTH, _A4_HEIGHT, _MARGIN = 11906, 16838, 1134
_TEXT_WIDTH = _A4_WIDTH - 2 * _MARGIN

_DOCX_CONTENT_TYPES = f"""{_XML_DECLARATION}\
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/word/document.xml" ContentType="{_DOCX_MIME}.document.main+xml"/>\
<Override PartName="/word/styles.xml" ContentType="{_DOCX_MIME}.styles+xml"/>\
<Override PartName="/docProps/core.xml" \
ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
<Override PartName="/docProps/app.xml" \
ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>\
</Types>"""

_DOCX_PACKAGE_RELS = f"""{_XML_DECLARATION}\
<Relationships xmlns="{_PKG_REL_NS}">\
<Relationship Id="rId1" Type="{_DOC_REL_TYPE}/officeDocument" Target="word/document.xml"/>\
<Relationship Id="rId2" \
Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" \
Target="docProps/core.xml"/>\
<Relationship Id="rId3" Type="{_DOC_REL_TYPE}/extended-properties" Target="docProps/app.xml"/>\
</Relationships>"""

_DOCX_DOCUMENT_RELS = f"""{_XML_DECLARATION}\
<Relationships xmlns="{_PKG_REL_NS}">\
<Relationship Id="rId1" Type="{_DOC_REL_TYPE}/styles" Target="styles.xml"/>\
</Relationships>"""


def _w_style(
    style_id: str, name: str, *, ppr: str = "", rpr: str = "", custom: bool = False
) -> str:
    custom_attr = ' w:customStyle="1"' if custom else ""
    return (
        f'<w:style w:type="paragraph" w:styleId="{style_id}"{custom_attr}>'
        f'<w:name w:val="{name}"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/>'
        f"<w:qFormat/><w:pPr>{ppr}</w:pPr><w:rPr>{rpr}</w:rPr></w:style>"
    )


_DOCX_STYLES = (
    f'{_XML_DECLARATION}<w:styles xmlns:w="{_W_NS}">'
    "<w:docDefaults><w:rPrDefault><w:rPr>"
    '<w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="Calibri" w:cs="Calibri"/>'
    '<w:sz w:val="22"/><w:szCs w:val="22"/><w:lang w:val="fr-FR" w:eastAsia="en-US"/>'
    "</w:rPr></w:rPrDefault>"
    '<w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="264" w:lineRule="auto"/>'
    "</w:pPr></w:pPrDefault></w:docDefaults>"
    '<w:style w:type="paragraph" w:default="1" w:styleId="Normal">'
    '<w:name w:val="Normal"/><w:qFormat/></w:style>'
    + _w_style(
        "Title",
        "Title",
        ppr='<w:spacing w:after="240"/><w:jc w:val="center"/>',
        rpr='<w:b/><w:color w:val="1F3864"/><w:sz w:val="40"/><w:szCs w:val="40"/>',
    )
    + _w_style(
        "Subtitle",
        "Subtitle",
        ppr='<w:spacing w:after="60"/><w:jc w:val="center"/>',
        rpr='<w:i/><w:color w:val="404040"/><w:sz w:val="24"/><w:szCs w:val="24"/>',
    )
    + _w_style(
        "Heading1",
        "heading 1",
        ppr='<w:keepNext/><w:spacing w:before="360" w:after="120"/><w:outlineLvl w:val="0"/>',
        rpr='<w:b/><w:color w:val="1F3864"/><w:sz w:val="28"/><w:szCs w:val="28"/>',
    )
    + _w_style(
        "Heading2",
        "heading 2",
        ppr='<w:keepNext/><w:spacing w:before="240" w:after="80"/><w:outlineLvl w:val="1"/>',
        rpr='<w:b/><w:color w:val="2F5496"/><w:sz w:val="24"/><w:szCs w:val="24"/>',
    )
    + _w_style(
        "Consigne",
        "Consigne",
        custom=True,
        rpr='<w:i/><w:color w:val="595959"/><w:sz w:val="20"/><w:szCs w:val="20"/>',
    )
    + _w_style(
        "Champ",
        "Champ",
        custom=True,
        ppr=f'<w:tabs><w:tab w:val="right" w:leader="dot" w:pos="{_TEXT_WIDTH}"/></w:tabs>'
        '<w:spacing w:before="120" w:after="120"/>',
    )
    + "</w:styles>"
)

_DOCX_PARAGRAPH_STYLES = {
    "title": "Title",
    "subtitle": "Subtitle",
    "h1": "Heading1",
    "h2": "Heading2",
    "hint": "Consigne",
    "field": "Champ",
}


def _w_run(text: str, *, bold: bool = False) -> str:
    rpr = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


def _w_paragraph(content: str = "", style: str | None = None) -> str:
    """A ``w:p`` element; ``content`` is already rendered runs."""
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{ppr}{content}</w:p>"


def _w_answer_box(lines: int) -> str:
    """A one-cell framed table with empty lines to write in."""
    border = '<w:{side} w:val="single" w:sz="4" w:space="0" w:color="808080"/>'
    borders = "".join(border.format(side=side) for side in ("top", "left", "bottom", "right"))
    return (
        "<w:tbl><w:tblPr>"
        f'<w:tblW w:w="{_TEXT_WIDTH}" w:type="dxa"/><w:tblBorders>{borders}</w:tblBorders>'
        '<w:tblLayout w:type="fixed"/></w:tblPr>'
        f'<w:tblGrid><w:gridCol w:w="{_TEXT_WIDTH}"/></w:tblGrid>'
        f'<w:tr><w:tc><w:tcPr><w:tcW w:w="{_TEXT_WIDTH}" w:type="dxa"/></w:tcPr>'
        + _w_paragraph() * max(lines, 1)
        + "</w:tc></w:tr></w:tbl>"
        # Keeps consecutive boxes apart; Word also needs a paragraph after a final table.
        + _w_paragraph()
    )


def _w_block(block: _Block) -> str:
    match block.kind:
        case "box":
            return _w_answer_box(block.lines)
        case "field":
            # The tab runs to the style's right tab stop, drawing the dotted line.
            return _w_paragraph(
                _w_run(f"{block.text} : ", bold=True) + "<w:r><w:tab/></w:r>", "Champ"
            )
        case "check":
            return _w_paragraph(_w_run(f"{_CHECKBOX} {block.text}"))
        case _:
            return _w_paragraph(_w_run(block.text), _DOCX_PARAGRAPH_STYLES.get(block.kind))


def _docx(title: str, blocks: Sequence[_Block]) -> bytes:
    body = "".join(_w_block(block) for block in blocks)
    document = (
        f'{_XML_DECLARATION}<w:document xmlns:w="{_W_NS}" xmlns:r="{_R_NS}"><w:body>{body}'
        f'<w:sectPr><w:pgSz w:w="{_A4_WIDTH}" w:h="{_A4_HEIGHT}"/>'
        f'<w:pgMar w:top="{_MARGIN}" w:right="{_MARGIN}" w:bottom="{_MARGIN}" '
        f'w:left="{_MARGIN}" w:header="567" w:footer="567" w:gutter="0"/></w:sectPr>'
        "</w:body></w:document>"
    )
    core = (
        f"{_XML_DECLARATION}<cp:coreProperties "
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(title)}</dc:title>"
        "<dc:creator>Département de l'Isère</dc:creator><dc:language>fr-FR</dc:language>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{_CREATED_W3CDTF}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{_CREATED_W3CDTF}</dcterms:modified>'
        "</cp:coreProperties>"
    )
    app = (
        f"{_XML_DECLARATION}<Properties "
        'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>aap-isere</Application><Company>Département de l'Isère</Company>"
        "</Properties>"
    )
    # [Content_Types].xml first and word/ third: libmagic reads the member names in order.
    return _zip(
        [
            ("[Content_Types].xml", _DOCX_CONTENT_TYPES),
            ("_rels/.rels", _DOCX_PACKAGE_RELS),
            ("word/document.xml", document),
            ("word/_rels/document.xml.rels", _DOCX_DOCUMENT_RELS),
            ("word/styles.xml", _DOCX_STYLES),
            ("docProps/core.xml", core),
            ("docProps/app.xml", app),
        ]
    )


# --------------------------------------------------------------------------------------
# OpenDocument Text (.odt)
# --------------------------------------------------------------------------------------

_ODT_MIME = "application/vnd.oasis.opendocument.text"
_ODF_NAMESPACES = " ".join(
    f'xmlns:{prefix}="{uri}"'
    for prefix, uri in (
        ("office", "urn:oasis:names:tc:opendocument:xmlns:office:1.0"),
        ("style", "urn:oasis:names:tc:opendocument:xmlns:style:1.0"),
        ("text", "urn:oasis:names:tc:opendocument:xmlns:text:1.0"),
        ("table", "urn:oasis:names:tc:opendocument:xmlns:table:1.0"),
        ("fo", "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"),
        ("svg", "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"),
        ("meta", "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"),
        ("dc", "http://purl.org/dc/elements/1.1/"),
    )
)
_ODT_TEXT_WIDTH = "17cm"  # A4 less two 2 cm margins

_ODT_MANIFEST = f"""{_XML_DECLARATION}\
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" \
manifest:version="1.2">\
<manifest:file-entry manifest:full-path="/" manifest:version="1.2" \
manifest:media-type="{_ODT_MIME}"/>\
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>\
<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>\
<manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>\
</manifest:manifest>"""


def _odf_paragraph_style(
    name: str, display_name: str, *, ppr: str = "", tpr: str = "", extra: str = ""
) -> str:
    return (
        f'<style:style style:name="{name}" style:display-name="{display_name}" '
        f'style:family="paragraph" style:parent-style-name="Standard" '
        f'style:next-style-name="Standard"{extra}>'
        f"<style:paragraph-properties {ppr}/><style:text-properties {tpr}/></style:style>"
    )


_ODT_STYLES = (
    f'{_XML_DECLARATION}<office:document-styles {_ODF_NAMESPACES} office:version="1.2">'
    '<office:font-face-decls><style:font-face style:name="Calibri" svg:font-family="Calibri" '
    'style:font-family-generic="swiss"/></office:font-face-decls>'
    "<office:styles>"
    '<style:default-style style:family="paragraph">'
    '<style:paragraph-properties fo:margin-bottom="0.21cm" fo:line-height="110%"/>'
    '<style:text-properties style:font-name="Calibri" fo:font-size="11pt" '
    'fo:language="fr" fo:country="FR"/></style:default-style>'
    '<style:style style:name="Standard" style:family="paragraph" style:class="text"/>'
    + _odf_paragraph_style(
        "Title",
        "Title",
        ppr='fo:text-align="center" fo:margin-bottom="0.42cm"',
        tpr='fo:font-size="20pt" fo:font-weight="bold" fo:color="#1f3864"',
    )
    + _odf_paragraph_style(
        "Subtitle",
        "Subtitle",
        ppr='fo:text-align="center" fo:margin-bottom="0.1cm"',
        tpr='fo:font-size="12pt" fo:font-style="italic" fo:color="#404040"',
    )
    + _odf_paragraph_style(
        "Heading_20_1",
        "Heading 1",
        ppr='fo:margin-top="0.64cm" fo:margin-bottom="0.21cm" fo:keep-with-next="always"',
        tpr='fo:font-size="14pt" fo:font-weight="bold" fo:color="#1f3864"',
        extra=' style:default-outline-level="1"',
    )
    + _odf_paragraph_style(
        "Heading_20_2",
        "Heading 2",
        ppr='fo:margin-top="0.42cm" fo:margin-bottom="0.14cm" fo:keep-with-next="always"',
        tpr='fo:font-size="12pt" fo:font-weight="bold" fo:color="#2f5496"',
        extra=' style:default-outline-level="2"',
    )
    + _odf_paragraph_style(
        "Consigne",
        "Consigne",
        tpr='fo:font-size="10pt" fo:font-style="italic" fo:color="#595959"',
    )
    + '<style:style style:name="Champ" style:display-name="Champ" style:family="paragraph" '
    'style:parent-style-name="Standard"><style:paragraph-properties '
    'fo:margin-top="0.21cm" fo:margin-bottom="0.21cm"><style:tab-stops>'
    f'<style:tab-stop style:position="{_ODT_TEXT_WIDTH}" style:type="right" '
    'style:leader-style="dotted" style:leader-text="."/>'
    "</style:tab-stops></style:paragraph-properties></style:style>"
    '<style:style style:name="Gras" style:family="text">'
    '<style:text-properties fo:font-weight="bold"/></style:style>'
    "</office:styles>"
    '<office:automatic-styles><style:page-layout style:name="A4">'
    '<style:page-layout-properties fo:page-width="21cm" fo:page-height="29.7cm" '
    'style:print-orientation="portrait" fo:margin-top="2cm" fo:margin-bottom="2cm" '
    'fo:margin-left="2cm" fo:margin-right="2cm"/></style:page-layout>'
    "</office:automatic-styles>"
    '<office:master-styles><style:master-page style:name="Standard" '
    'style:page-layout-name="A4"/></office:master-styles>'
    "</office:document-styles>"
)

# Styles of the answer boxes, local to content.xml.
_ODT_AUTOMATIC_STYLES = (
    "<office:automatic-styles>"
    '<style:style style:name="Cadre" style:family="table">'
    f'<style:table-properties style:width="{_ODT_TEXT_WIDTH}" table:align="left" '
    'fo:margin-bottom="0.21cm"/></style:style>'
    '<style:style style:name="Cadre.A" style:family="table-column">'
    f'<style:table-column-properties style:column-width="{_ODT_TEXT_WIDTH}"/></style:style>'
    '<style:style style:name="Cadre.A1" style:family="table-cell">'
    '<style:table-cell-properties fo:padding="0.1cm" fo:border="0.5pt solid #808080"/>'
    "</style:style></office:automatic-styles>"
)

_ODT_PARAGRAPH_STYLES = {
    "title": "Title",
    "subtitle": "Subtitle",
    "hint": "Consigne",
    "field": "Champ",
    "text": "Standard",
    "check": "Standard",
}


def _odt_paragraph(content: str = "", style: str = "Standard") -> str:
    """A ``text:p`` element; ``content`` is already escaped markup."""
    return f'<text:p text:style-name="{style}">{content}</text:p>'


def _odt_block(block: _Block, index: int) -> str:
    """Render one block; ``index`` gives answer boxes the unique name ODF tables need."""
    match block.kind:
        case "h1" | "h2":
            level = block.kind[1]
            return (
                f'<text:h text:style-name="Heading_20_{level}" text:outline-level="{level}">'
                f"{escape(block.text)}</text:h>"
            )
        case "box":
            return (
                f'<table:table table:name="Cadre{index}" table:style-name="Cadre">'
                '<table:table-column table:style-name="Cadre.A"/><table:table-row>'
                '<table:table-cell table:style-name="Cadre.A1" office:value-type="string">'
                + _odt_paragraph() * max(block.lines, 1)
                + "</table:table-cell></table:table-row></table:table>"
            )
        case "field":
            return _odt_paragraph(
                f'<text:span text:style-name="Gras">{escape(block.text)} : </text:span><text:tab/>',
                "Champ",
            )
        case "check":
            return _odt_paragraph(escape(f"{_CHECKBOX} {block.text}"))
        case _:
            return _odt_paragraph(escape(block.text), _ODT_PARAGRAPH_STYLES[block.kind])


def _odt(title: str, blocks: Sequence[_Block]) -> bytes:
    body = "".join(_odt_block(block, index) for index, block in enumerate(blocks, start=1))
    content = (
        f'{_XML_DECLARATION}<office:document-content {_ODF_NAMESPACES} office:version="1.2">'
        f"{_ODT_AUTOMATIC_STYLES}<office:body><office:text>{body}</office:text></office:body>"
        "</office:document-content>"
    )
    meta = (
        f'{_XML_DECLARATION}<office:document-meta {_ODF_NAMESPACES} office:version="1.2">'
        f"<office:meta><meta:generator>aap-isere</meta:generator>"
        f"<dc:title>{escape(title)}</dc:title><dc:language>fr-FR</dc:language>"
        f"<meta:initial-creator>Département de l'Isère</meta:initial-creator>"
        f"<meta:creation-date>{_CREATED.isoformat()}</meta:creation-date>"
        "</office:meta></office:document-meta>"
    )
    # The uncompressed "mimetype" member must come first: that is what libmagic (and ODF
    # readers) look at.
    return _zip(
        [
            ("mimetype", _ODT_MIME),
            ("content.xml", content),
            ("styles.xml", _ODT_STYLES),
            ("meta.xml", meta),
            ("META-INF/manifest.xml", _ODT_MANIFEST),
        ],
        stored={"mimetype"},
    )


# --------------------------------------------------------------------------------------
# Public text documents
# --------------------------------------------------------------------------------------


def funding_request_docx(dates: CallDates = SEED_DATES) -> bytes:
    """The funding-request form ("dossier de demande de financement") as a Word file."""
    return _docx("Dossier de demande de financement", _funding_request_blocks(dates))


def funding_request_odt(dates: CallDates = SEED_DATES) -> bytes:
    """The funding-request form as an OpenDocument text file (same content as the DOCX)."""
    return _odt("Dossier de demande de financement", _funding_request_blocks(dates))


def attestation_docx(dates: CallDates = SEED_DATES) -> bytes:
    """The undertaking to be signed by the candidate's legal representative, as a Word file."""
    return _docx("Attestation d'engagement du représentant légal", _attestation_blocks(dates))


# --------------------------------------------------------------------------------------
# Provisional budgets (.xlsx)
# --------------------------------------------------------------------------------------

# (account heading, detail lines); an account without detail lines is filled in directly.
_Account = tuple[str, tuple[str, ...]]

_CHARGES: tuple[_Account, ...] = (
    (
        "60 – Achats",
        ("Prestations de services", "Achats de matières et fournitures", "Autres fournitures"),
    ),
    (
        "61 – Services extérieurs",
        ("Locations", "Entretien et réparation", "Assurances", "Documentation"),
    ),
    (
        "62 – Autres services extérieurs",
        (
            "Rémunérations intermédiaires et honoraires",
            "Publicité, publications",
            "Déplacements, missions",
            "Services bancaires, autres",
        ),
    ),
    ("63 – Impôts et taxes", ("Impôts et taxes sur rémunérations", "Autres impôts et taxes")),
    (
        "64 – Charges de personnel",
        ("Rémunération des personnels", "Charges sociales", "Autres charges de personnel"),
    ),
    ("65 – Autres charges de gestion courante", ()),
    ("68 – Dotations aux amortissements", ()),
)

_PRODUITS: tuple[_Account, ...] = (
    ("70 – Ventes de produits finis, de marchandises, prestations de services", ()),
    (
        "74 – Subventions d'exploitation",
        (
            "État (DDETS)",
            "Département de l'Isère – appel à projets",
            "Région",
            "EPCI / communes",
            "Autres (préciser)",
        ),
    ),
    ("75 – Autres produits de gestion courante", ()),
)

_CHARGES_IN_KIND: _Account = (
    "86 – Emplois des contributions volontaires en nature",
    (
        "Secours en nature",
        "Mise à disposition gratuite de biens et services",
        "Personnel bénévole",
    ),
)

_PRODUITS_IN_KIND: _Account = (
    "87 – Contributions volontaires en nature",
    ("Bénévolat", "Prestations en nature", "Dons en nature"),
)

_EURO_FORMAT = '#,##0.00 "€"'
_HEADER_FILL = PatternFill("solid", start_color="1F3864")
_ACCOUNT_FILL = PatternFill("solid", start_color="D9E1F2")
_TOTAL_FILL = PatternFill("solid", start_color="BDD7EE")
_INPUT_FILL = PatternFill("solid", start_color="FFF9E5")
_THIN = Side(style="thin", color="808080")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def _budget_cell(ws: Worksheet, ref: str, value=None, *, fill=None, bold=False, indent=0):
    cell = ws[ref]
    cell.value = value
    cell.border = _GRID
    cell.font = Font(bold=bold)
    if fill is not None:
        cell.fill = fill
    cell.alignment = Alignment(indent=indent, wrap_text=True, vertical="center")
    return cell


def _write_accounts(ws: Worksheet, label_col: str, amount_col: str, row: int, accounts):
    """Write accounts from ``row`` downwards; return the rows of the account headings.

    An account heading with detail lines gets a SUM of them; otherwise it is an input cell.
    """
    heading_rows = []
    for heading, details in accounts:
        heading_rows.append(row)
        _budget_cell(ws, f"{label_col}{row}", heading, fill=_ACCOUNT_FILL, bold=True)
        amount = (
            f"=SUM({amount_col}{row + 1}:{amount_col}{row + len(details)})" if details else None
        )
        _budget_cell(
            ws,
            f"{amount_col}{row}",
            amount,
            fill=_ACCOUNT_FILL if details else _INPUT_FILL,
            bold=True,
        ).number_format = _EURO_FORMAT
        for offset, detail in enumerate(details, start=1):
            _budget_cell(ws, f"{label_col}{row + offset}", detail, indent=2)
            _budget_cell(
                ws, f"{amount_col}{row + offset}", fill=_INPUT_FILL
            ).number_format = _EURO_FORMAT
        row += 1 + len(details)
    return heading_rows


def _write_total(ws: Worksheet, label_col: str, amount_col: str, row: int, label: str, rows):
    _budget_cell(ws, f"{label_col}{row}", label, fill=_TOTAL_FILL, bold=True)
    formula = "=SUM({})".format(",".join(f"{amount_col}{r}" for r in rows))
    _budget_cell(
        ws, f"{amount_col}{row}", formula, fill=_TOTAL_FILL, bold=True
    ).number_format = _EURO_FORMAT


def _write_budget_sheet(ws: Worksheet, title: str, period_label: str, dates: CallDates) -> None:
    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14, color="1F3864")
    ws["A2"] = f"{dates.fill(CALL_TITLE)} – Département de l'Isère"
    ws["A2"].font = Font(italic=True)
    ws["A3"] = "Structure :"
    ws["C3"] = period_label
    for ref in ("A3", "C3"):
        ws[ref].font = Font(bold=True)

    header_row = 5
    for col, text in zip(
        "ABCD", ("Charges", "Montant (€)", "Produits", "Montant (€)"), strict=True
    ):
        cell = _budget_cell(ws, f"{col}{header_row}", text, fill=_HEADER_FILL)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.alignment = Alignment(horizontal="center", vertical="center")

    first = header_row + 1
    charge_rows = _write_accounts(ws, "A", "B", first, _CHARGES)
    produit_rows = _write_accounts(ws, "C", "D", first, _PRODUITS)
    last_charges = first + sum(1 + len(details) for _, details in _CHARGES) - 1
    last_produits = first + sum(1 + len(details) for _, details in _PRODUITS) - 1
    total_row = max(last_charges, last_produits) + 1
    # The shorter side is padded with empty framed cells so that the totals line up.
    shorter_side = "CD" if last_produits < last_charges else "AB"
    for row in range(min(last_charges, last_produits) + 1, total_row):
        for col in shorter_side:
            _budget_cell(ws, f"{col}{row}")
    _write_total(ws, "A", "B", total_row, "Total des charges", charge_rows)
    _write_total(ws, "C", "D", total_row, "Total des produits", produit_rows)

    in_kind_row = total_row + 1
    (charges_in_kind,) = _write_accounts(ws, "A", "B", in_kind_row, [_CHARGES_IN_KIND])
    (produits_in_kind,) = _write_accounts(ws, "C", "D", in_kind_row, [_PRODUITS_IN_KIND])

    grand_total_row = in_kind_row + 1 + max(len(_CHARGES_IN_KIND[1]), len(_PRODUITS_IN_KIND[1]))
    _write_total(ws, "A", "B", grand_total_row, "TOTAL", [total_row, charges_in_kind])
    _write_total(ws, "C", "D", grand_total_row, "TOTAL", [total_row, produits_in_kind])

    note_row = grand_total_row + 2
    ws[f"A{note_row}"] = (
        "Le budget doit être présenté à l'équilibre : le total des charges est égal au total "
        "des produits. Les cellules sur fond jaune sont à compléter."
    )
    ws[f"A{note_row}"].font = Font(italic=True, color="595959")
    ws[f"A{note_row + 1}"] = "Écart (produits – charges) :"
    ws[f"B{note_row + 1}"] = f"=D{grand_total_row}-B{grand_total_row}"
    ws[f"B{note_row + 1}"].number_format = _EURO_FORMAT

    for col, width in zip("ABCD", (52, 16, 52, 16), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"A{first}"
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"


def budget_xlsx(dates: CallDates = SEED_DATES) -> bytes:
    """The provisional budgets of the action and of the structure, as an Excel workbook."""
    workbook = Workbook()
    action = workbook.active
    action.title = "Budget de l'action"
    _write_budget_sheet(
        action,
        "Budget prévisionnel de l'action",
        "Lot : ☐ Nord Isère  ☐ Sud Isère – Période : du …… au ……",
        dates,
    )
    structure = workbook.create_sheet("Budget de la structure")
    _write_budget_sheet(structure, "Budget prévisionnel de la structure", "Exercice : ……", dates)
    workbook.properties.title = "Budgets prévisionnels de l'action et de la structure"
    workbook.properties.creator = "Département de l'Isère"
    workbook.properties.language = "fr-FR"
    workbook.properties.created = _CREATED
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _ooxml_reordered(buffer.getvalue())


def _ooxml_reordered(data: bytes) -> bytes:
    """Repack an OOXML file with ``[Content_Types].xml``, the relationships and the main
    ``xl/`` parts first, as Office writes them.

    openpyxl writes ``[Content_Types].xml`` last, after ``docProps/`` and a large theme part.
    libmagic still recognises the whole file, but not its first 2048 bytes (the usual sniffing
    buffer), where it only sees a zip archive.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = [(name, archive.read(name)) for name in archive.namelist()]
    leading = ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml")

    def rank(name: str) -> tuple[int, int]:
        if name in leading:
            return 0, leading.index(name)
        return (1, 0) if name.startswith("xl/") else (2, 0)

    return _zip(sorted(parts, key=lambda part: rank(part[0])))


# --------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------

_PDF_PAGE_WIDTH, _PDF_PAGE_HEIGHT, _PDF_MARGIN = 595, 842, 56  # A4 in points
_PDF_FONT_SIZE, _PDF_LEADING, _PDF_TITLE_SIZE = 11, 15, 16
_PDF_WRAP = 88  # characters of 11 pt Helvetica that fit in the text width
_PDF_MAX_LINES = (_PDF_PAGE_HEIGHT - 2 * _PDF_MARGIN - 2 * _PDF_TITLE_SIZE) // _PDF_LEADING


def _pdf_string(text: str) -> str:
    """A PDF literal string in WinAnsiEncoding, kept ASCII with octal escapes."""
    out = []
    for byte in text.encode("cp1252", errors="replace"):
        if byte in b"\\()":
            out.append("\\" + chr(byte))
        elif 32 <= byte < 127:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
    return "(" + "".join(out) + ")"


def sample_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF 1.4 with a bold title and lines of text (Helvetica, WinAnsi encoding).

    Long lines are wrapped; a ``ValueError`` is raised if the text does not fit on the page.
    Meant for demo and test uploads (e.g. a candidate's CV), not for real documents.
    """
    wrapped = [part for line in lines for part in (textwrap.wrap(line, _PDF_WRAP) or [""])]
    if len(wrapped) > _PDF_MAX_LINES:
        raise ValueError(f"{len(wrapped)} lines do not fit on one page (max {_PDF_MAX_LINES}).")
    top = _PDF_PAGE_HEIGHT - _PDF_MARGIN - _PDF_TITLE_SIZE
    commands = [
        "BT",
        f"/F2 {_PDF_TITLE_SIZE} Tf",
        f"{_PDF_MARGIN} {top} Td",
        f"{_pdf_string(title)} Tj",
        f"/F1 {_PDF_FONT_SIZE} Tf",
        f"{_PDF_LEADING} TL",
        "T*",  # a blank line under the title
        *(f"{_pdf_string(line)} '" for line in wrapped),  # ' = next line, then show
        "ET",
    ]
    stream = "\n".join(commands).encode("ascii")
    title_utf16 = (b"\xfe\xff" + title.encode("utf-16-be")).hex().upper()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_PDF_PAGE_WIDTH} {_PDF_PAGE_HEIGHT}] "
            "/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>"
        ).encode("ascii"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        f"<< /Title <{title_utf16}> /Producer (aap-isere) >>".encode("ascii"),
    ]
    # The binary comment on line 2 tells transfer tools the file is not plain text.
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_offset = len(pdf)
    pdf += b"xref\n0 %d\n" % (len(objects) + 1)
    pdf += b"0000000000 65535 f \n"  # each entry is exactly 20 bytes
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_offset,
    )
    return bytes(pdf)

"""The text annexes as office files: WordprocessingML (DOCX) and OpenDocument (ODT)."""

from collections.abc import Sequence
from xml.sax.saxutils import escape

from demo.build_annexes.content import (
    _CHECKBOX,
    _CREATED,
    _CREATED_W3CDTF,
    _XML_DECLARATION,
    PLACEHOLDERS,
    _attestation_blocks,
    _Block,
    _funding_request_blocks,
    _zip,
)

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


def funding_request_docx() -> bytes:
    """The funding-request form ("dossier de demande de financement") as a Word file."""
    return _docx("Dossier de demande de financement", _funding_request_blocks(PLACEHOLDERS))


def funding_request_odt() -> bytes:
    """The funding-request form as an OpenDocument text file (same content as the DOCX)."""
    return _odt("Dossier de demande de financement", _funding_request_blocks(PLACEHOLDERS))


def attestation_docx() -> bytes:
    """The undertaking to be signed by the candidate's legal representative, as a Word file."""
    return _docx(
        "Attestation d'engagement du représentant légal", _attestation_blocks(PLACEHOLDERS)
    )

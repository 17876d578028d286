"""« Un seul dépôt, un seul document officiel »: for a call that asks for it
(``Call.funding_request_generated``), the dossier de demande de financement is the PDF the
platform makes from the candidate's answers, instead of a DOCX typed a second time.

The answers are written into the receipt's manifest when the dossier is submitted (as
people read them, section by section): the PDF is rendered from the manifest, so that it
says exactly what was submitted with that receipt, even after a withdrawal and new answers
(a new receipt then has its own).
"""

from django.utils.translation import gettext as _

from aap.models import QuestionKind
from candidatures.answers import by_section, euros, read_answers
from candidatures.models import Candidature, Receipt
from core.dates import format_datetime
from core.pdf import render_pdf


def manifest_answers(candidature: Candidature) -> list[dict]:
    """Every question of the call in order, with its answer as people read it ("" when
    unanswered), and, for amounts and numbers, the value itself for the tables."""
    found = []
    for question, value, text in read_answers(candidature):
        entry = {
            "section": question.section,
            "label": question.label,
            "kind": question.kind,
            "text": text,
        }
        if question.kind in (QuestionKind.AMOUNT, QuestionKind.NUMBER) and value not in (
            None,
            "",
        ):
            entry["value"] = str(value)
        found.append(entry)
    return found


def funding_request_filename(receipt: Receipt) -> str:
    return f"Dossier-de-demande-{receipt.number}.pdf"


def funding_request_pdf(receipt_id: int) -> bytes:
    """The dossier de demande de financement of the receipt's submission: a cover page,
    every section with its answers, the financing table and the list of pieces."""
    receipt = Receipt.objects.select_related("call", "submitted_by").get(pk=receipt_id)
    manifest = receipt.manifest
    answers = manifest.get("answers", [])
    amounts = [
        {"label": answer["label"], "amount": euros(answer["value"])}
        for answer in answers
        if answer["kind"] == QuestionKind.AMOUNT and "value" in answer
    ]
    return render_pdf(
        "candidatures/pdf/funding_request.html",
        {
            "receipt": receipt,
            "manifest": manifest,
            "call": receipt.call,
            "sections": by_section(answers, lambda answer: answer["section"]),
            "amounts": amounts,
            "submitted_at": format_datetime(receipt.submitted_at, seconds=True),
            "title": _("Dossier de demande de financement"),
        },
    )

"""Receipts: what was submitted and when, as a manifest, a PDF and a verification page."""

import base64
import datetime as dt
import logging

import segno
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from candidatures.funding_request import (
    funding_request_filename,
    manifest_answers,
)
from candidatures.models import Candidature, Receipt
from candidatures.queries import member_emails
from core.dates import format_datetime
from core.links import absolute_url
from core.mail import queue_email
from core.pdf import render_pdf
from core.storage import StorageUnavailable

logger = logging.getLogger(__name__)


def submitted_message(receipt: Receipt) -> str:
    """What the candidate reads on screen once the dossier is submitted."""
    return _(
        "Votre dossier est déposé le %(when)s. Accusé de réception n° %(number)s, "
        "envoyé aussi par courriel."
    ) % {"when": format_datetime(receipt.submitted_at, seconds=True), "number": receipt.number}


def build_manifest(candidature: Candidature, *, submitted_at: dt.datetime) -> dict:
    """Everything the receipt proves, frozen at submission."""
    organisation = candidature.organisation
    documents = candidature.documents.select_related("required_document").order_by(
        "required_document__position", "uploaded_at", "pk"
    )
    return {
        "organisation": {
            "name": organisation.name,
            "kind": organisation.kind_short,
            "siret": organisation.siret,
            "address": f"{organisation.address}, {organisation.postal_code} {organisation.city}",
            "representative": organisation.legal_representative_name,
            "representative_role": organisation.legal_representative_role,
        },
        "call": {
            "reference": candidature.call.reference,
            "title": candidature.call.title,
            "deadline": candidature.call.deadline.isoformat(),
        },
        "lots": [lot.name for lot in candidature.lots.all()],
        "submitted_at": submitted_at.isoformat(),
        # As people read them: the dossier de demande is rendered from these.
        "answers": manifest_answers(candidature),
        "documents": [
            {
                "piece": document.required_document.label,
                "name": document.original_name,
                "size": document.size,
                "sha256": document.sha256,
            }
            for document in documents
        ],
    }


def qr_data_uri(url: str) -> str:
    svg = segno.make(url, error="m").svg_inline(scale=3, omitsize=False)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def verification_url(receipt: Receipt) -> str:
    return absolute_url("candidatures:verify_receipt", token=receipt.token)


def receipt_pdf(receipt_id: int) -> bytes:
    """The receipt's PDF, rendered once from its manifest and kept in private storage."""
    receipt = Receipt.objects.select_related("submitted_by").get(pk=receipt_id)
    if receipt.pdf:
        with receipt.pdf.open("rb") as handle:
            return handle.read()
    manifest = receipt.manifest
    url = verification_url(receipt)
    content = render_pdf(
        "candidatures/pdf/receipt.html",
        {
            "receipt": receipt,
            "manifest": manifest,
            "submitted_at": format_datetime(receipt.submitted_at, seconds=True),
            "deadline": format_datetime(dt.datetime.fromisoformat(manifest["call"]["deadline"])),
            "verification_url": url,
            "qr": qr_data_uri(url),
        },
    )
    try:
        receipt.pdf.save(f"{receipt.number}.pdf", ContentFile(content), save=False)
    except StorageUnavailable:
        # The receipt is still given (and e-mailed); it is kept the next time it is asked.
        logger.warning("Receipt %s: PDF not kept, the storage refused it", receipt.number)
        return content
    Receipt.objects.filter(pk=receipt.pk).update(pdf=receipt.pdf.name)
    return content


def receipt_filename(receipt: Receipt) -> str:
    return f"Accuse-de-reception-{receipt.number}.pdf"


def send_receipt(receipt: Receipt):
    """E-mail the receipt to the members of the organisation, PDF attached, after commit."""
    candidature = receipt.candidature
    return queue_email(
        to=member_emails(candidature.organisation),
        template="candidature_submitted",
        context={
            "receipt": receipt,
            "candidature": candidature,
            "submitted_at": format_datetime(receipt.submitted_at, seconds=True),
            "url": absolute_url("candidatures:dossier", pk=candidature.pk),
        },
        key=f"receipt-{receipt.pk}",
        attachments=[
            {
                "name": receipt_filename(receipt),
                "mimetype": "application/pdf",
                "render": "receipt",
                "args": [receipt.pk],
            },
            *(
                [
                    {
                        "name": funding_request_filename(receipt),
                        "mimetype": "application/pdf",
                        "render": "funding_request",
                        "args": [receipt.pk],
                    }
                ]
                if candidature.call.funding_request_generated
                else []
            ),
        ],
    )

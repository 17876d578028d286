"""What a dossier's archive holds, as entries read one at a time by the ZIP stream
(``archives.zipstream``): every stored file unchanged, small documents made when the
stream reaches them.

```
reponses/     the answers to the call's form, as a PDF
pieces/       every uploaded file under its original name, one folder per required document
accuses/      the receipt(s) of submission, superseded ones included, and the dossier de
              demande made from each submission's answers (calls that ask for it)
historique/   every recorded act (CSV and PDF), the messages with the candidate and their
              files, the DDETS's readings
instruction/  the admissibility, the evaluations, the ranking row(s), the DDETS's opinions
decisions/    the decisions and their rectifications, the letters and the committee
              records (procès-verbaux) as stored
conventions/<number>/  the agreement as sent and as signed, its avenants, its payments
              and its reports
manifest.csv  each file's path, size and SHA-256, with the hash the platform stored
```
"""

from collections.abc import Iterator

from django.utils.translation import gettext as _

from aap.models import Lot
from archives import records
from archives.zipstream import Entry, Folder, csv_chunks, generated, stored_chunks
from candidatures.answers import display
from candidatures.funding_request import funding_request_filename, funding_request_pdf
from candidatures.models import Candidature
from candidatures.receipts import receipt_filename, receipt_pdf
from conventions.pdf import amendment_filename
from core.dates import format_datetime
from core.pdf import render_pdf
from evaluation.exports import ranking_table
from evaluation.models import CommitteeRecord, NotificationLetter


def dossier_queryset():
    return Candidature.objects.select_related(
        "call", "organisation", "admissibility__decided_by", "consensus__set_by"
    )


def folder_name(candidature: Candidature) -> str:
    """The dossier's folder in a call's archive, and its own archive's name."""
    return Folder("").name(
        f"{candidature.call.reference}-{candidature.organisation.name}-{candidature.pk}"
    )


def answers_pdf(candidature: Candidature) -> bytes:
    call = candidature.call
    lots_by_id = {lot.pk: lot.name for lot in call.lots.all()}
    answers = {a.question_id: a.value for a in candidature.answers.all()}
    sections = []
    for question in call.form_questions.all():
        item = (question, display(question, answers.get(question.pk), lots_by_id))
        if sections and sections[-1][0] == question.section:
            sections[-1][1].append(item)
        else:
            sections.append((question.section, [item]))
    return render_pdf(
        "archives/pdf/answers.html",
        {
            "candidature": candidature,
            "call": call,
            "organisation": candidature.organisation,
            "lots": [lot.name for lot in candidature.lots.all()],
            "sections": sections,
            "documents": candidature.documents.select_related("required_document"),
            "submitted_at": format_datetime(candidature.submitted_at, seconds=True)
            if candidature.submitted_at
            else "",
        },
    )


def table_pdf(title: str, candidature: Candidature, columns, rows) -> bytes:
    return render_pdf(
        "archives/pdf/table.html",
        {"title": title, "candidature": candidature, "columns": columns, "rows": rows},
    )


def lot_rankings(candidature: Candidature) -> dict:
    lots = Lot.objects.filter(candidatures=candidature).select_related("call")
    return {lot.pk: ranking_table(lot) for lot in lots}


def committee_records(candidature: Candidature):
    return (
        CommitteeRecord.objects.filter(lot__candidatures=candidature)
        .select_related("lot", "call")
        .order_by("created_at", "pk")
    )


def committee_entry(folder: Folder, record: CommitteeRecord) -> Entry:
    name = _("PV-comite-%(ref)s-%(lot)s-%(date)s.pdf") % {
        "ref": record.call.reference,
        "lot": record.lot.name,
        "date": f"{record.created_at:%Y-%m-%d}",
    }
    return Entry(
        folder.name(name),
        stored_chunks(record.pdf),
        _("Procès-verbal du comité de sélection, lot « %(lot)s », figé le %(date)s (PDF)")
        % {"lot": record.lot.name, "date": format_datetime(record.created_at)},
        stored_sha256=record.sha256,
    )


def missing_files(candidature: Candidature) -> list[str]:
    """The stored files of the dossier that are no longer in storage, by what they are: an
    archive streamed to the browser is checked first, as it cannot fail half-way through
    with a message."""
    fields = [(d.original_name, d.file) for d in candidature.documents.all()]
    fields += [(r.number, r.pdf) for r in candidature.receipts.exclude(pdf="")]
    fields += [
        (m.attachment_name, m.attachment) for m in candidature.messages.exclude(attachment="")
    ]
    fields += [
        (letter.get_kind_display(), letter.pdf)
        for letter in NotificationLetter.objects.filter(candidature=candidature).exclude(pdf="")
    ]
    fields += [(str(record), record.pdf) for record in committee_records(candidature)]
    for convention in candidature.conventions.prefetch_related("amendments", "reports"):
        fields += [
            (convention.number, convention.document),
            (convention.number, convention.signed_scan),
        ]
        for amendment in convention.amendments.all():
            fields += [
                (str(amendment), amendment.document),
                (str(amendment), amendment.signed_scan),
            ]
        fields += [(report.file_name, report.file) for report in convention.reports.all()]
    return [what for what, field in fields if field and not field.storage.exists(field.name)]


def dossier_entries(
    candidature: Candidature,
    *,
    root: str = "",
    rankings: dict | None = None,
    with_committee: bool = True,
) -> Iterator[Entry]:
    """The entries of ``candidature``'s archive under ``root`` (a folder, or the ZIP's
    root). ``rankings``: the lots' ranking tables when the caller computed them once for
    a whole call; ``with_committee``: whether the committee records of its lots go in
    the dossier's folder (a call's archive keeps them once, at its root)."""

    def at(path: str) -> Folder:
        return Folder(f"{root}/{path}" if root else path)

    yield Entry(
        at("reponses").name(_("Reponses-du-dossier.pdf")),
        generated(lambda: answers_pdf(candidature)),
        _("Réponses au formulaire de candidature, telles que déposées (PDF)"),
    )
    folders: dict[int, Folder] = {}
    for document in candidature.documents.select_related("required_document").order_by(
        "required_document__position", "uploaded_at", "pk"
    ):
        piece = document.required_document
        folder = folders.setdefault(piece.pk, at(f"pieces/{Folder('').name(piece.label)}"))
        yield Entry(
            folder.name(document.original_name),
            stored_chunks(document.file),
            _("Pièce « %(piece)s » : %(name)s, déposée le %(date)s")
            % {
                "piece": piece.label,
                "name": document.original_name,
                "date": format_datetime(document.uploaded_at),
            },
            stored_sha256=document.sha256,
            size=document.size,
        )
    yield from _receipts(candidature, at("accuses"))
    yield from _history(candidature, at("historique"))
    yield from _instruction(candidature, at("instruction"), rankings)
    yield from _decisions(candidature, at("decisions"), with_committee)
    for convention in candidature.conventions.select_related("lot").order_by("year", "number"):
        yield from _convention(convention, at(f"conventions/{Folder('').name(convention.number)}"))


def _receipts(candidature: Candidature, folder: Folder) -> Iterator[Entry]:
    for receipt in candidature.receipts.order_by("sequence"):
        what = _("Accusé de réception n° %(n)s, dépôt du %(date)s") % {
            "n": receipt.number,
            "date": format_datetime(receipt.submitted_at, seconds=True),
        }
        if receipt.superseded_at:
            what += _(" (remplacé le %(date)s)") % {"date": format_datetime(receipt.superseded_at)}
        chunks = (
            stored_chunks(receipt.pdf)
            if receipt.pdf
            # Rendered from its frozen manifest and kept, as its download does.
            else generated(lambda pk=receipt.pk: receipt_pdf(pk))
        )
        yield Entry(folder.name(receipt_filename(receipt)), chunks, what + " (PDF)")
        if candidature.call.funding_request_generated:
            # The dossier de demande the platform made from that submission's answers.
            yield Entry(
                folder.name(funding_request_filename(receipt)),
                generated(lambda pk=receipt.pk: funding_request_pdf(pk)),
                _("Dossier de demande de financement, accusé n° %(n)s (PDF)")
                % {"n": receipt.number},
            )


def _history(candidature: Candidature, folder: Folder) -> Iterator[Entry]:
    rows = records.history_rows(candidature)
    yield Entry(
        folder.name("historique.csv"),
        csv_chunks(records.history_columns(), lambda: rows),
        _("Historique du dossier : chaque acte, sa date, son auteur (CSV)"),
    )
    yield Entry(
        folder.name("historique.pdf"),
        generated(
            lambda: table_pdf(
                _("Historique du dossier"), candidature, records.history_columns(), rows
            )
        ),
        _("Historique du dossier (PDF)"),
    )
    yield Entry(
        folder.name("messages.csv"),
        csv_chunks(records.message_columns(), lambda: records.message_rows(candidature)),
        _("Messages échangés entre le candidat et le Service IVE (CSV)"),
    )
    attachments = Folder(f"{folder.path}/fichiers-des-messages")
    for message in candidature.messages.exclude(attachment="").order_by("created_at", "pk"):
        yield Entry(
            attachments.name(message.attachment_name or "fichier"),
            stored_chunks(message.attachment),
            _("Fichier joint au message du %(date)s : %(name)s")
            % {"date": format_datetime(message.created_at), "name": message.attachment_name},
            stored_sha256=message.attachment_sha256,
            size=message.attachment_size,
        )
    yield Entry(
        folder.name("consultations-ddets.csv"),
        csv_chunks(records.reading_columns(), lambda: records.reading_rows(candidature)),
        _("Consultations du dossier par la DDETS : qui, quoi, quand (CSV)"),
    )


def _instruction(candidature: Candidature, folder: Folder, rankings) -> Iterator[Entry]:
    yield Entry(
        folder.name("recevabilite.csv"),
        csv_chunks(
            records.admissibility_columns(), lambda: records.admissibility_rows(candidature)
        ),
        _("Recevabilité : décision, motif, contrôles de la plateforme (CSV)"),
    )
    columns, rows = records.evaluation_table(candidature)
    yield Entry(
        folder.name("evaluations.csv"),
        csv_chunks(columns, lambda: rows),
        _("Évaluations : déclarations d'intérêts, notes, justifications, consensus (CSV)"),
    )
    tables = rankings if rankings is not None else lot_rankings(candidature)
    mine = {lot_id: table for lot_id, table in tables.items() if lot_id in _lot_ids(candidature)}
    columns, rows = records.ranking_table_rows(candidature, mine)
    yield Entry(
        folder.name("classement.csv"),
        csv_chunks(columns, lambda: rows),
        _("Ligne du dossier au classement de chacun de ses lots (CSV)"),
    )
    yield Entry(
        folder.name("avis-ddets.csv"),
        csv_chunks(records.opinion_columns(), lambda: records.opinion_rows(candidature)),
        _("Avis de la DDETS (CSV)"),
    )


def _lot_ids(candidature: Candidature) -> set[int]:
    return set(candidature.lots.values_list("pk", flat=True))


def _decisions(candidature: Candidature, folder: Folder, with_committee: bool) -> Iterator[Entry]:
    yield Entry(
        folder.name("decisions.csv"),
        csv_chunks(records.decision_columns(), lambda: records.decision_rows(candidature)),
        _("Décisions par lot et leurs rectifications (CSV)"),
    )
    letters = NotificationLetter.objects.filter(candidature=candidature).select_related(
        "candidature__call"
    )
    for letter in letters.exclude(pdf="").order_by("created_at", "pk"):
        yield Entry(
            folder.name(letter.filename),
            stored_chunks(letter.pdf),
            _("%(kind)s, envoyée le %(date)s (PDF tel qu'envoyé)")
            % {
                "kind": letter.get_kind_display(),
                "date": format_datetime(letter.sent_at) if letter.sent_at else "—",
            },
            stored_sha256=letter.sha256,
        )
    if with_committee:
        for record in committee_records(candidature):
            yield committee_entry(folder, record)


def _convention(convention, folder: Folder) -> Iterator[Entry]:
    number = convention.number
    yield Entry(
        folder.name("convention.csv"),
        csv_chunks(records.convention_columns(), lambda: records.convention_rows(convention)),
        _("Convention %(n)s : période, montant, statut (CSV)") % {"n": number},
    )
    if convention.document:
        yield Entry(
            folder.name(_("Convention-%(n)s-envoyee.pdf") % {"n": number}),
            stored_chunks(convention.document),
            _("Convention %(n)s telle qu'envoyée pour signature le %(date)s (PDF)")
            % {"n": number, "date": format_datetime(convention.sent_at)},
            stored_sha256=convention.document_sha256,
        )
    if convention.signed_scan:
        yield Entry(
            folder.name(
                _("Convention-%(n)s-signee-%(name)s")
                % {"n": number, "name": convention.signed_scan_name or "scan.pdf"}
            ),
            stored_chunks(convention.signed_scan),
            _("Convention %(n)s signée (exemplaire déposé)") % {"n": number},
        )
    amendments = Folder(f"{folder.path}/avenants")
    yield Entry(
        amendments.name("avenants.csv"),
        csv_chunks(records.amendment_columns(), lambda: records.amendment_rows(convention)),
        _("Avenants de la convention %(n)s (CSV)") % {"n": number},
    )
    for amendment in convention.amendments.select_related("convention").order_by("number"):
        if amendment.document:
            yield Entry(
                amendments.name(amendment_filename(amendment)),
                stored_chunks(amendment.document),
                _("%(title)s tel qu'envoyé pour signature le %(date)s (PDF)")
                % {"title": amendment.title, "date": format_datetime(amendment.sent_at)},
                stored_sha256=amendment.document_sha256,
            )
        if amendment.signed_scan:
            yield Entry(
                amendments.name(
                    _("Avenant-%(n)s-signe-%(name)s")
                    % {"n": amendment.number, "name": amendment.signed_scan_name or "scan.pdf"}
                ),
                stored_chunks(amendment.signed_scan),
                _("%(title)s signé (exemplaire déposé)") % {"title": amendment.title},
            )
    yield Entry(
        folder.name("versements.csv"),
        csv_chunks(records.payment_columns(), lambda: records.payment_rows(convention)),
        _("Versements de la convention %(n)s : échéancier, mandats, paiements (CSV)")
        % {"n": number},
    )
    yield Entry(
        folder.name("points-d-etape.csv"),
        csv_chunks(records.review_columns(), lambda: records.review_rows(convention)),
        _("Points d'étape de la convention %(n)s et remarques de la DDETS (CSV)") % {"n": number},
    )
    yield Entry(
        folder.name("indicateurs.csv"),
        csv_chunks(records.indicator_columns(), lambda: records.indicator_rows(convention)),
        _("Valeurs des indicateurs de suivi, par trimestre (CSV)"),
    )
    reports = Folder(f"{folder.path}/bilans")
    yield Entry(
        reports.name("bilans.csv"),
        csv_chunks(records.report_columns(), lambda: records.report_rows(convention)),
        _("Bilans attendus et remis, leur examen (CSV)"),
    )
    for report in convention.reports.exclude(file="").order_by("due_on", "kind"):
        yield Entry(
            reports.name(f"{report.get_kind_display()}-{report.file_name or 'bilan'}"),
            stored_chunks(report.file),
            _("%(kind)s remis le %(date)s : %(name)s")
            % {
                "kind": report.get_kind_display(),
                "date": format_datetime(report.submitted_at) if report.submitted_at else "—",
                "name": report.file_name,
            },
            stored_sha256=report.sha256,
        )

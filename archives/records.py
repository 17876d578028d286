"""A dossier's records as tables (columns, rows), for the CSV files and the PDFs of its
archive: the history of every act, the admissibility, the evaluations, the ranking rows,
the DDETS's opinions, the decisions, and each agreement with its payments and reports.

Each function reads one dossier (or one agreement) in a few queries; nothing here writes.
"""

from django.utils.translation import gettext as _

from candidatures.models import (
    Candidature,
    CandidatureStatusChange,
    PaperCopyRevision,
    PieceRequestRevision,
)
from conventions.models import (
    AmendmentStatusChange,
    ConventionStatusChange,
    PaymentStatusChange,
    ReportStatusChange,
)
from core.dates import format_datetime
from evaluation.models import (
    AdmissibilityChange,
    ConsensusRevision,
    DecisionRevision,
    EvaluationStatusChange,
    NotificationLetter,
    OpinionRevision,
)
from evaluation.states import AdmissibilityOutcome, ConflictStatus


def person(user) -> str:
    if user is None:
        return _("la plateforme")
    name = user.get_full_name()
    return f"{name} <{user.email}>" if name else user.email


def _when(value) -> str:
    return format_datetime(value) if value else ""


# --- History ------------------------------------------------------------------------------


def history_columns() -> list[str]:
    return [
        _("Date"),
        _("Objet"),
        _("Action"),
        _("De"),
        _("Vers"),
        _("Par"),
        _("Note ou modification"),
    ]


def _status_rows(changes, subject) -> list[tuple]:
    return [
        (c.at, subject(c), c.action_label, c.from_label, c.to_label, person(c.by), c.note)
        for c in changes
    ]


def _revision_text(revision) -> str:
    changes = "; ".join(
        f"{name} : {before or '—'} → {after or '—'}" for name, before, after in revision.changes()
    )
    return " — ".join(part for part in (revision.note, changes) if part)


def _revision_rows(revisions, subject) -> list[tuple]:
    return [
        (r.at, subject(r), r.action_label, "", "", person(r.by), _revision_text(r))
        for r in revisions
    ]


def history_rows(candidature: Candidature) -> list[list]:
    """Every recorded act on the dossier and what followed it, oldest first."""
    rows = []
    rows += _status_rows(
        CandidatureStatusChange.objects.filter(candidature=candidature).select_related("by"),
        lambda c: _("Dossier"),
    )
    outcomes = dict(AdmissibilityOutcome.choices)
    rows += [
        (
            change.at,
            _("Recevabilité"),
            str(outcomes.get(change.outcome, change.outcome)),
            "",
            "",
            person(change.by),
            change.reason,
        )
        for change in AdmissibilityChange.objects.filter(candidature=candidature).select_related(
            "by"
        )
    ]
    rows += _revision_rows(
        PaperCopyRevision.objects.filter(paper_copy__candidature=candidature).select_related("by"),
        lambda r: _("Exemplaire papier"),
    )
    rows += _revision_rows(
        PieceRequestRevision.objects.filter(piece_request__candidature=candidature).select_related(
            "by"
        ),
        lambda r: _("Demande de pièces"),
    )
    rows += _status_rows(
        EvaluationStatusChange.objects.filter(
            evaluation__assignment__candidature=candidature
        ).select_related("by", "evaluation__assignment__evaluator"),
        lambda c: _("Évaluation de %(who)s") % {"who": person(c.evaluation.assignment.evaluator)},
    )
    rows += _revision_rows(
        ConsensusRevision.objects.filter(candidature=candidature).select_related("by"),
        lambda r: _("Note de consensus"),
    )
    rows += _revision_rows(
        OpinionRevision.objects.filter(opinion__candidature=candidature).select_related("by"),
        lambda r: _("Avis de la DDETS"),
    )
    rows += _revision_rows(
        DecisionRevision.objects.filter(decision__candidature=candidature).select_related(
            "by", "decision__lot"
        ),
        lambda r: _("Décision, lot %(lot)s") % {"lot": r.decision.lot.name},
    )
    for letter in NotificationLetter.objects.filter(candidature=candidature).select_related(
        "sent_by"
    ):
        if letter.queued_at:
            rows.append(
                (
                    letter.queued_at,
                    letter.get_kind_display(),
                    _("Envoi confirmé"),
                    "",
                    "",
                    person(letter.sent_by),
                    "",
                )
            )
        if letter.sent_at:
            rows.append(
                (
                    letter.sent_at,
                    letter.get_kind_display(),
                    _("Lettre envoyée"),
                    "",
                    "",
                    _("la plateforme"),
                    f"SHA-256 {letter.sha256}",
                )
            )
    rows += _status_rows(
        ConventionStatusChange.objects.filter(convention__candidature=candidature).select_related(
            "by", "convention"
        ),
        lambda c: _("Convention %(n)s") % {"n": c.convention.number},
    )
    rows += _status_rows(
        AmendmentStatusChange.objects.filter(
            amendment__convention__candidature=candidature
        ).select_related("by", "amendment__convention"),
        lambda c: str(c.amendment),
    )
    rows += _status_rows(
        PaymentStatusChange.objects.filter(
            payment__convention__candidature=candidature
        ).select_related("by", "payment__convention"),
        lambda c: (
            _("Versement « %(label)s », convention %(n)s")
            % {"label": c.payment.label, "n": c.payment.convention.number}
        ),
    )
    rows += _status_rows(
        ReportStatusChange.objects.filter(
            report__convention__candidature=candidature
        ).select_related("by", "report__convention"),
        lambda c: str(c.report),
    )
    rows.sort(key=lambda row: row[0])
    return [[_when(row[0]), *row[1:]] for row in rows]


def message_columns() -> list[str]:
    return [_("Date"), _("De"), _("Service IVE"), _("Message"), _("Fichier joint"), _("SHA-256")]


def message_rows(candidature: Candidature) -> list[list]:
    return [
        [
            _when(m.created_at),
            person(m.author),
            m.from_staff,
            m.body,
            m.attachment_name,
            m.attachment_sha256,
        ]
        for m in candidature.messages.select_related("author").order_by("created_at", "pk")
    ]


# --- Instruction ----------------------------------------------------------------------------


def admissibility_columns() -> list[str]:
    return [_("Recevabilité"), _("Motif"), _("Décidée le"), _("Par"), _("Contrôles")]


def admissibility_rows(candidature: Candidature) -> list[list]:
    admissibility = getattr(candidature, "admissibility", None)
    if admissibility is None:
        return []
    verdicts = {True: _("oui"), False: _("non"), None: "—"}
    checks = "; ".join(
        f"{check.get('label', '')} : {verdicts.get(check.get('ok'), '—')}"
        + (f" ({check['detail']})" if check.get("detail") else "")
        for check in admissibility.checks or []
        if isinstance(check, dict)
    )
    return [
        [
            admissibility.get_outcome_display(),
            admissibility.reason,
            _when(admissibility.decided_at),
            person(admissibility.decided_by),
            checks,
        ]
    ]


def evaluation_table(candidature: Candidature) -> tuple[list, list]:
    """One row per evaluator asked: the declaration of interests, then the evaluation,
    its total, each sub-criterion's score and each criterion's justification."""
    criteria = list(candidature.call.criteria.prefetch_related("subcriteria"))
    subcriteria = [sub for criterion in criteria for sub in criterion.subcriteria.all()]
    columns = [
        _("Évaluateur"),
        _("Déclaration d'intérêts"),
        _("Nature du lien"),
        _("Statut de l'évaluation"),
        _("Déposée le"),
        _("Total (/100)"),
        *[f"{c.title} – {s.title}" for c in criteria for s in c.subcriteria.all()],
        *[_("Justification : %(c)s") % {"c": c.title} for c in criteria],
        _("Appréciation générale"),
    ]
    conflicts = dict(ConflictStatus.choices)
    rows = []
    for assignment in candidature.assignments.select_related(
        "evaluator", "evaluation"
    ).prefetch_related("evaluation__scores", "evaluation__justifications"):
        evaluation = getattr(assignment, "evaluation", None)
        scores = {s.subcriterion_id: s.value for s in evaluation.scores.all()} if evaluation else {}
        texts = (
            {j.criterion_id: j.text for j in evaluation.justifications.all()} if evaluation else {}
        )
        rows.append(
            [
                person(assignment.evaluator),
                str(conflicts.get(assignment.conflict, assignment.conflict)),
                assignment.conflict_note,
                evaluation.get_status_display() if evaluation else "",
                _when(evaluation.submitted_at) if evaluation else "",
                evaluation.total if evaluation else None,
                *[scores.get(sub.pk) for sub in subcriteria],
                *[texts.get(c.pk, "") for c in criteria],
                evaluation.overall_comment if evaluation else "",
            ]
        )
    consensus = getattr(candidature, "consensus", None)
    if consensus is not None:
        rows.append(
            [
                _("Note de consensus : %(who)s") % {"who": person(consensus.set_by)},
                "",
                "",
                "",
                _when(consensus.set_at),
                consensus.total,
                *[None for _sub in subcriteria],
                *["" for _c in criteria],
                consensus.reason,
            ]
        )
    return columns, rows


def ranking_table_rows(candidature: Candidature, tables: dict) -> tuple[list, list]:
    """The dossier's row in the ranking of each of its lots, as the ranking page and its
    exports show it. ``tables``: lot id → ``evaluation.exports.RankingTable``."""
    columns, rows = [_("Lot")], []
    for table in (tables[lot_id] for lot_id in sorted(tables)):
        columns = [_("Lot"), *table.columns]
        for dossier, row in zip(table.dossiers, table.rows, strict=True):
            if dossier.pk == candidature.pk:
                rows.append([table.lot.name, *row])
    return columns, rows


def opinion_columns() -> list[str]:
    return [_("Lecteur DDETS"), _("Avis"), _("Commentaire"), _("Le")]


def opinion_rows(candidature: Candidature) -> list[list]:
    return [
        [person(o.author), o.get_kind_display(), o.comment, _when(o.updated_at)]
        for o in candidature.opinions.select_related("author").order_by("updated_at")
    ]


def decision_columns() -> list[str]:
    return [
        _("Lot"),
        _("Décision"),
        _("Montant attribué (€)"),
        _("ETP financés"),
        _("Motif"),
        _("Décidée le"),
        _("Par"),
        _("Rectifications"),
    ]


def decision_rows(candidature: Candidature) -> list[list]:
    rows = []
    for decision in candidature.decisions.select_related("lot", "decided_by").prefetch_related(
        "rectifications__by"
    ):
        rectifications = " | ".join(
            _("%(date)s par %(who)s : %(old)s → %(new)s (%(reason)s)")
            % {
                "date": _when(r.at),
                "who": person(r.by),
                "old": r.get_old_outcome_display(),
                "new": r.get_new_outcome_display(),
                "reason": r.reason,
            }
            for r in decision.rectifications.all()
        )
        rows.append(
            [
                decision.lot.name,
                decision.get_outcome_display(),
                decision.amount_granted,
                decision.fte_granted,
                decision.reason,
                _when(decision.decided_at),
                person(decision.decided_by),
                rectifications,
            ]
        )
    return rows


# --- Agreements ---------------------------------------------------------------------------


def convention_columns() -> list[str]:
    return [
        _("Numéro"),
        _("Lot"),
        _("Année"),
        _("Statut"),
        _("Début"),
        _("Fin"),
        _("Montant (€)"),
        _("ETP"),
        _("Envoyée le"),
        _("SHA-256 de la convention envoyée"),
        _("Signée le"),
        _("Motif de résiliation"),
    ]


def convention_rows(convention) -> list[list]:
    return [
        [
            convention.number,
            convention.lot.name,
            convention.year,
            convention.get_status_display(),
            convention.period_start,
            convention.period_end,
            convention.amount,
            convention.fte,
            _when(convention.sent_at),
            convention.document_sha256,
            convention.signed_on,
            convention.termination_reason,
        ]
    ]


def payment_columns() -> list[str]:
    return [
        _("Versement"),
        _("Échéance"),
        _("Montant (€)"),
        _("Condition"),
        _("Statut"),
        _("Demandé le"),
        _("Mandaté le"),
        _("Versé le"),
        _("Référence comptable (mandat)"),
    ]


def payment_rows(convention) -> list[list]:
    return [
        [
            p.label,
            p.due_on,
            p.amount,
            p.condition_label,
            p.get_status_display(),
            p.requested_on,
            p.ordered_on,
            p.paid_on,
            p.accounting_reference,
        ]
        for p in convention.payments.order_by("due_on", "position", "pk")
    ]


def report_columns() -> list[str]:
    return [
        _("Bilan"),
        _("À remettre avant le"),
        _("Statut"),
        _("Fichier"),
        _("SHA-256"),
        _("Remis le"),
        _("Remis par"),
        _("Validé le"),
        _("Motif du renvoi"),
    ]


def report_rows(convention) -> list[list]:
    return [
        [
            r.get_kind_display(),
            r.due_on,
            r.get_status_display(),
            r.file_name,
            r.sha256,
            _when(r.submitted_at),
            person(r.submitted_by) if r.submitted_by_id else "",
            _when(r.accepted_at),
            r.sent_back_reason,
        ]
        for r in convention.reports.select_related("submitted_by").order_by("due_on", "kind")
    ]


def amendment_columns() -> list[str]:
    return [
        _("Avenant"),
        _("Statut"),
        _("Ce qu'il modifie"),
        _("Montant avant (€)"),
        _("Montant après (€)"),
        _("Fin avant"),
        _("Fin après"),
        _("Envoyé le"),
        _("SHA-256 de l'avenant envoyé"),
        _("Signé le"),
    ]


def amendment_rows(convention) -> list[list]:
    return [
        [
            a.title,
            a.get_status_display(),
            a.changes,
            a.amount_before,
            a.amount_after,
            a.period_end_before,
            a.period_end_after,
            _when(a.sent_at),
            a.document_sha256,
            a.signed_on,
        ]
        for a in convention.amendments.order_by("number")
    ]


def review_columns() -> list[str]:
    return [
        _("Date et heure"),
        _("Lieu"),
        _("Tenu"),
        _("Participants"),
        _("Compte rendu"),
        _("Décisions d'ajustement"),
        _("Remarques de la DDETS"),
    ]


def review_rows(convention) -> list[list]:
    return [
        [
            _when(review.scheduled_at),
            review.place,
            review.held,
            review.participants,
            review.minutes,
            review.adjustments,
            " | ".join(
                f"{_when(remark.at)}, {person(remark.author)} : {remark.text}"
                for remark in review.remarks.all()
            ),
        ]
        for review in convention.reviews.prefetch_related("remarks__author").order_by(
            "scheduled_at"
        )
    ]


def indicator_columns() -> list[str]:
    return [_("Indicateur"), _("Unité"), _("Trimestre"), _("Valeur"), _("Commentaire"), _("Le")]


def indicator_rows(convention) -> list[list]:
    return [
        [
            value.indicator.label,
            value.indicator.unit,
            value.period,
            value.value,
            value.comment,
            _when(value.entered_at),
        ]
        for value in convention.indicator_values.select_related("indicator")
    ]


def reading_columns() -> list[str]:
    return [_("Date"), _("Lecteur DDETS"), _("Consulté")]


def reading_rows(candidature: Candidature) -> list[list]:
    return [
        [_when(reading.at), person(reading.reader), reading.what]
        for reading in candidature.readings.select_related("reader").order_by("at", "pk")
    ]

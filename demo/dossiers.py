"""Fictional dossiers of the demonstration calls past their deadline (``demo.loader``).

Every organisation, dossier, answer and file goes through the services a candidate
uses, so that receipts, hashes and history are the platform's own. Those services take
content only while the call is open: the loader opens the call until after ``now``,
``submit_demo_dossiers`` submits each dossier at an instant before the real deadline,
then moves the deadline back and dates the dossiers' story as it happened.
"""

import datetime as dt
import io
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import load_workbook
from stdnum import luhn

from aap.models import Call, QuestionKind
from candidatures import receipts, services
from candidatures.models import (
    Answer,
    Candidature,
    CandidatureStatusChange,
    Document,
    Membership,
    Organisation,
    Receipt,
)
from core.models import User
from core.roles import Role
from demo import modeles


def fictional_siret(n: int) -> str:
    """A valid SIRET (Luhn-checked SIREN, then NIC and key) of a fictional organisation."""
    siren_body = f"{99900000 + n:08d}"
    siren = siren_body + luhn.calc_check_digit(siren_body)
    body = f"{siren}0001"
    return body + luhn.calc_check_digit(body)


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    kind: str
    siret: str
    city: str
    lot: str  # the name of the lot applied for
    representative: str
    member: str | None  # e-mail of a fictional member; None: the demo candidate
    before_deadline: dt.timedelta  # when the dossier was submitted
    amount: str
    summary: str


ORGANISATIONS = [
    DemoOrganisation(
        name="Communauté de communes fictive du Val-Nord (démonstration)",
        kind="epci",
        siret=fictional_siret(1),
        city="Val-Nord (commune fictive)",
        lot="Nord Isère",
        representative="Claire Présidente-Fictive",
        member=None,
        before_deadline=dt.timedelta(days=6, hours=6, minutes=48),
        amount="24500.00",
        summary=(
            "Co-animer le réseau des facilitateurs du Nord Isère avec les quatre EPCI "
            "voisins : réunions trimestrielles, un espace numérique partagé et un guide "
            "des clauses pour les petites communes."
        ),
    ),
    DemoOrganisation(
        name="GIP fictif Emploi Nord-Dauphiné (démonstration)",
        kind="gip",
        siret=fictional_siret(2),
        city="Bourg-Fictif",
        lot="Nord Isère",
        representative="Paul Directeur-Fictif",
        member="porteur.gip-nord-dauphine@demo.example",
        before_deadline=dt.timedelta(days=2, hours=1, minutes=20),
        amount="22000.00",
        summary=(
            "Mettre l'expérience du GIP au service du réseau : ateliers avec les bailleurs "
            "sociaux et un bilan partagé des heures d'insertion du territoire."
        ),
    ),
    DemoOrganisation(
        name="Communauté de communes fictive des Hauts-Plateaux du Sud (démonstration)",
        kind="epci",
        siret=fictional_siret(3),
        city="Plateau-Fictif",
        lot="Sud Isère",
        representative="Nadia Présidente-Fictive",
        member="porteur.hauts-plateaux@demo.example",
        before_deadline=dt.timedelta(days=4, hours=7, minutes=35),
        amount="23800.00",
        summary=(
            "Étendre les clauses sociales aux territoires de montagne du Sud Isère, dont le "
            "Vercors, avec une permanence itinérante auprès des acheteurs."
        ),
    ),
    DemoOrganisation(
        name="Association fictive Clauses et Territoires (démonstration)",
        kind="association",
        siret=fictional_siret(4),
        city="Rivière-Fictive",
        lot="Sud Isère",
        representative="Marc Président-Fictif",
        member="porteur.clauses-territoires@demo.example",
        before_deadline=dt.timedelta(minutes=8),
        amount="19500.00",
        summary=(
            "Animer des rencontres entre structures d'insertion et entreprises attributaires "
            "de marchés publics du Sud Isère."
        ),
    ),
]

# The call whose agreements are running: the demo candidate's organisation applies again,
# with two organisations of its own (one organisation may apply to several calls).
CONVENTION_ORGANISATIONS = [
    ORGANISATIONS[0],
    DemoOrganisation(
        name="Communauté de communes fictive du Trièves-Sud (démonstration)",
        kind="epci",
        siret=fictional_siret(5),
        city="Mens-Fictif",
        lot="Sud Isère",
        representative="Hélène Présidente-Fictive",
        member="porteur.trieves-sud@demo.example",
        before_deadline=dt.timedelta(days=3, hours=2, minutes=10),
        amount="23000.00",
        summary=(
            "Animer le réseau des facilitateurs du Sud Isère avec les territoires du Trièves "
            "et du Vercors, et outiller les communes rurales pour leurs premiers marchés clausés."
        ),
    ),
    DemoOrganisation(
        name="Association fictive Insertion Bièvre-Valloire (démonstration)",
        kind="association",
        siret=fictional_siret(6),
        city="Bièvre-Fictive",
        lot="Nord Isère",
        representative="Louis Président-Fictif",
        member="porteur.bievre-valloire@demo.example",
        before_deadline=dt.timedelta(days=1, hours=3, minutes=5),
        amount="18000.00",
        summary=(
            "Accompagner les entreprises attributaires du Nord Isère dans l'accueil des "
            "personnes en insertion recrutées au titre des clauses sociales."
        ),
    ),
]


def _member(spec: DemoOrganisation, candidate: User) -> User:
    if spec.member is None:
        return candidate
    user = User.objects.filter(email=spec.member).first()
    if user is None:
        # A fictional person: no password, nobody logs in as them.
        user = User.objects.create_user(
            email=spec.member,
            first_name="Porteur",
            last_name="Fictif",
            job_title="Chargé de mission clauses sociales (fictif)",
            email_verified_at=timezone.now(),
        )
        user.groups.add(Group.objects.get(name=Role.CANDIDAT))
    return user


def _organisation(spec: DemoOrganisation, member: User) -> Organisation:
    existing = Organisation.objects.filter(siret=spec.siret).first()
    if existing is not None:
        Membership.objects.get_or_create(organisation=existing, user=member)
        return existing
    return services.create_organisation(
        by=member,
        name=spec.name,
        kind=spec.kind,
        siret=spec.siret,
        address="1 place de la Démonstration",
        postal_code="38000",
        city=spec.city,
        legal_representative_name=spec.representative,
        legal_representative_role="Président(e)",
        legal_representative_email="representant.legal@demo.example",
    )


def _answer(question, spec: DemoOrganisation, lot, start: dt.date):
    kind = question.kind
    if kind == QuestionKind.LOTS:
        return [lot.pk]
    if kind == QuestionKind.CHOICES:
        return question.choices.splitlines()[:2]
    if kind == QuestionKind.YES_NO:
        return spec.kind in ("epci", "gip")
    if kind == QuestionKind.NUMBER:
        return "0.5"
    if kind == QuestionKind.AMOUNT:
        return spec.amount
    if kind == QuestionKind.DATE:
        return start.isoformat()
    if question.label.startswith("Résumé"):
        return spec.summary
    return f"{question.label} : réponse de démonstration de la structure, rédigée pour l'exemple."


def _files(required, spec: DemoOrganisation) -> list[tuple[str, bytes]]:
    """Small generated files in a format the piece accepts: the budgets as a workbook,
    every other piece as a one-page PDF (two CVs for the piece that takes several)."""
    short = spec.name.split(" (")[0]
    if "xlsx" in required.allowed_formats:
        workbook = load_workbook(io.BytesIO(modeles.budget_xlsx()))
        workbook.active["A1"] = f"Budget prévisionnel de l'action – {short}"
        buffer = io.BytesIO()
        workbook.save(buffer)
        return [("Budgets prévisionnels.xlsx", buffer.getvalue())]
    lines = [short, "Document de démonstration : structure et contenu fictifs."]
    if required.multiple:
        return [(f"CV {n}.pdf", modeles.sample_pdf(f"Curriculum vitae {n}", lines)) for n in (1, 2)]
    return [(f"{required.label[:60]}.pdf", modeles.sample_pdf(required.label, lines))]


def submit_demo_dossiers(
    call: Call,
    *,
    deadline: dt.datetime,
    candidate: User,
    organisations: list[DemoOrganisation] = ORGANISATIONS,
) -> list:
    """One submitted dossier per fictional organisation of ``organisations``, the earliest
    first, so that the receipts are numbered in the order the dossiers came in; then the
    call's deadline becomes ``deadline`` and each dossier's story is dated before it."""
    lots = {lot.name: lot for lot in call.lots.all()}
    questions = list(call.form_questions.all())
    start = (deadline + dt.timedelta(days=45)).date()
    dossiers = []
    for spec in sorted(organisations, key=lambda spec: spec.before_deadline, reverse=True):
        member = _member(spec, candidate)
        organisation = _organisation(spec, member)
        dossier = services.start_candidature(call, organisation, by=member)
        lot = lots[spec.lot]
        services.save_answers(
            dossier,
            by=member,
            values={q.pk: _answer(q, spec, lot, start) for q in questions},
        )
        for required in call.required_documents.filter(mandatory=True):
            for name, content in _files(required, spec):
                services.add_document(
                    dossier, required, by=member, uploaded=SimpleUploadedFile(name, content)
                )
        received_at = deadline - spec.before_deadline
        services.submit_candidature(dossier, by=member, received_at=received_at, certified=True)
        dossiers.append(dossier)
    _date_before(call, dossiers, deadline)
    return dossiers


def _date_before(call: Call, dossiers: list, deadline: dt.datetime) -> None:
    """The deadline moves back to ``deadline``; what the services dated "now" (history,
    uploads, answers, creation) takes the instant it would have had, and each receipt's
    manifest is frozen again so that it names the real deadline."""
    Call.objects.filter(pk=call.pk).update(deadline=deadline)
    call.refresh_from_db()
    for dossier in dossiers:
        dossier.call = call
        submitted = dossier.submitted_at
        started = submitted - dt.timedelta(days=5)
        Organisation.objects.filter(pk=dossier.organisation_id, created_at__gt=started).update(
            created_at=started
        )
        Membership.objects.filter(
            organisation_id=dossier.organisation_id, joined_at__gt=started
        ).update(joined_at=started)
        Candidature.objects.filter(pk=dossier.pk).update(created_at=started, updated_at=submitted)
        Answer.objects.filter(candidature=dossier).update(
            updated_at=submitted - dt.timedelta(days=1)
        )
        Document.objects.filter(candidature=dossier).update(
            uploaded_at=submitted - dt.timedelta(hours=2)
        )
        CandidatureStatusChange.objects.filter(candidature=dossier).update(at=submitted)
        for receipt in Receipt.objects.filter(candidature=dossier):
            receipt.manifest = receipts.build_manifest(dossier, submitted_at=receipt.submitted_at)
            receipt.save(update_fields=["manifest"])

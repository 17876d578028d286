"""Nothing is deleted without the archives' visa, through any path; after it, the files
are gone from storage and the personal data anonymised, while the amounts, the SIRET, the
decisions and the trace of the elimination remain."""

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from archives.models import CallArchive
from archives.states import ArchiveStatus
from candidatures.models import Answer, CandidatureLocked, Document, Organisation, Reading
from conventions.models import ContentLocked, Convention, Payment
from conventions.states import PaymentStatus
from core.elimination import EliminationRefused, eliminating
from core.exceptions import DomainError
from core.models import EmailStatus, OutgoingEmail, User
from evaluation.models import Admissibility, Decision, LetterFrozen, NotificationLetter
from retention import services
from retention.elimination import ELIMINATED, execute_elimination
from retention.models import Bordereau, BordereauItem
from retention.queries import FILE_OWNERS, dossier_files, due, file_fields
from retention.states import BordereauStatus, Category
from retention.tasks import eliminate_bordereau
from tests.retention.conftest import at_noon, member_of, years_after
from tests.retention.small import small_world

pytestmark = pytest.mark.django_db

KEYS = ("alpha", "beta", "gamma", "delta", "draft")


def snapshot(world) -> dict:
    """What a deletion or an anonymisation would change, for every dossier of the world."""
    ids = [world[key].pk for key in KEYS]
    files = dossier_files(ids)
    return {
        "files": {name for stored in files.values() for name, _size in stored},
        "documents": Document.objects.count(),
        "representatives": sorted(
            Organisation.objects.values_list("legal_representative_name", flat=True)
        ),
        "accounts": sorted(User.objects.values_list("email", flat=True)),
        "readings": Reading.objects.count(),
        "emails": OutgoingEmail.objects.count(),
        "signatory": Convention.objects.get(pk=world["convention"].pk).representative_name,
    }


def existing(names) -> set[str]:
    return {name for name in names if default_storage.exists(name)}


def test_nothing_is_deleted_without_a_visa_whatever_the_path(world, admin_user, client):
    before = snapshot(world)
    assert before["files"] and existing(before["files"]) == before["files"]
    beta = world["beta"]
    with at_noon(years_after(10)):
        bordereau = services.prepare_draft(on=timezone.localdate())
        assert bordereau.items.filter(candidature=beta).exists()
        # A draft: the service, the task and the models' narrow path all refuse.
        with pytest.raises(EliminationRefused):
            execute_elimination(bordereau.pk)
        with pytest.raises(EliminationRefused):
            eliminate_bordereau(bordereau_id=bordereau.pk)
        with pytest.raises(EliminationRefused), eliminating(beta.pk):
            pass
        with pytest.raises(DomainError):
            services.launch_elimination(bordereau, by=admin_user)
        # Sent to the archives, waiting for the visa: the same.
        services.send_to_archives(bordereau, by=admin_user)
        with pytest.raises(EliminationRefused):
            eliminate_bordereau(bordereau_id=bordereau.pk)
        with pytest.raises(DomainError):
            services.launch_elimination(bordereau, by=admin_user)
        # Visa recorded, elimination not launched: still nothing.
        services.record_visa(
            bordereau,
            by=admin_user,
            visa_date=timezone.localdate(),
            reference="AD38-2036-114",
            signatory_name="Hélène Archiviste",
            signatory_title="Directrice des archives départementales",
        )
        with pytest.raises(EliminationRefused):
            execute_elimination(bordereau.pk)
        with pytest.raises(EliminationRefused), eliminating(beta.pk):
            pass
    # The ordinary paths of the frozen acts refuse as they did.
    with pytest.raises(CandidatureLocked):
        beta.documents.get().delete()
    letter = NotificationLetter.objects.get(candidature=beta)
    letter.pdf = ""
    with pytest.raises(LetterFrozen):
        letter.save()
    convention = Convention.objects.get(pk=world["convention"].pk)
    convention.representative_name = "Quelqu'un d'autre"
    with pytest.raises(ContentLocked):
        convention.save()
    # The admin shows the bordereau and its items read-only: no add, change or delete.
    client.force_login(admin_user)
    changelist = client.get(reverse("admin:retention_bordereau_changelist"))
    assert changelist.status_code == 200
    assert reverse("admin:retention_bordereau_add") not in changelist.content.decode()
    assert client.get(reverse("admin:retention_bordereau_add")).status_code == 403
    delete = reverse("admin:retention_bordereau_delete", args=[bordereau.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    with pytest.raises(DomainError):
        Bordereau.objects.get(pk=bordereau.pk).delete()
    assert snapshot(world) == before
    assert existing(before["files"]) == before["files"]


def test_a_refused_visa_eliminates_nothing(admin_user):
    small = small_world()
    document = small["dossier"].documents.get()
    with at_noon(years_after(10)):
        bordereau = services.prepare_draft(on=timezone.localdate())
        services.send_to_archives(bordereau, by=admin_user)
        services.refuse_visa(bordereau, by=admin_user, reason="Dossiers à verser aux archives.")
        with pytest.raises(DomainError):
            services.launch_elimination(bordereau, by=admin_user)
        with pytest.raises(EliminationRefused):
            eliminate_bordereau(bordereau_id=bordereau.pk)
        with pytest.raises(DomainError):
            services.record_visa(
                bordereau,
                by=admin_user,
                visa_date=timezone.localdate(),
                reference="X",
                signatory_name="Y",
                signatory_title="Z",
            )
    assert default_storage.exists(document.file.name)
    assert Document.objects.filter(pk=document.pk).exists()
    member = User.objects.get(pk=small["member"].pk)
    assert (member.email, member.is_active) == (small["member"].email, True)
    assert OutgoingEmail.objects.filter(pk=small["email"].pk).exists()
    assert not bordereau.items.filter(eliminated_at__isnull=False).exists()


def eliminate_everything(world, admin_user, capture):
    """At ten years after T0, everything is due: listed, sent, visa'd, eliminated by the
    task (eager) after commit, with the files deleted after each item's commit."""
    with at_noon(years_after(10)):
        bordereau = services.prepare_draft(on=timezone.localdate())
        services.send_to_archives(bordereau, by=admin_user)
        services.record_visa(
            bordereau,
            by=admin_user,
            visa_date=timezone.localdate(),
            reference="AD38-2036-114",
            signatory_name="Hélène Archiviste",
            signatory_title="Directrice des archives départementales",
        )
        with capture(execute=True):
            services.launch_elimination(bordereau, by=admin_user)
    bordereau.refresh_from_db()
    return bordereau


def test_after_the_visa_files_go_and_personal_data_is_anonymised_but_public_accounts_remain(
    world, admin_user, django_capture_on_commit_callbacks
):
    before = snapshot(world)
    alpha, beta = world["alpha"], world["beta"]
    members = {key: member_of(world[key]) for key in ("alpha", "beta", "gamma", "delta")}
    decisions = dict(Decision.objects.values_list("candidature_id", "outcome"))
    amounts = dict(Decision.objects.values_list("candidature_id", "amount_granted"))
    paid = list(Payment.objects.values_list("amount", "paid_on", "status").order_by("pk"))
    requested = {key: world[key].requested_amount for key in KEYS}
    fingerprints = dict(NotificationLetter.objects.values_list("pk", "sha256"))
    listed = [(item.category, item.volume) for item in due(on=years_after(10))]
    # A member who had turned the second factor on: its secret and codes must go too.
    TOTPDevice.objects.create(user=members["alpha"], name="Application", confirmed=True)
    StaticDevice.objects.create(user=members["alpha"], name="Codes de secours")
    # A call's archive (a ZIP of its dossiers) stored before: it holds copies of their files.
    archive = CallArchive.objects.create(
        call=world["call"], requested_by=world["instructeur"], status=ArchiveStatus.READY
    )
    archive.file.save("archive.zip", ContentFile(b"PK copies des dossiers"))
    zip_name = archive.file.name

    bordereau = eliminate_everything(world, admin_user, django_capture_on_commit_callbacks)

    assert bordereau.status == BordereauStatus.DONE
    # Every file stored under the dossiers is gone from storage.
    assert before["files"] and existing(before["files"]) == set()
    assert not Document.objects.exists()
    assert not default_storage.exists(zip_name)
    assert bordereau.trace["call_archives"] == {"files": 1, "bytes": 22}
    assert not NotificationLetter.objects.exclude(pdf="").exists()
    assert dict(NotificationLetter.objects.values_list("pk", "sha256")) == fingerprints
    convention = Convention.objects.get(pk=world["convention"].pk)
    assert (convention.document.name, convention.signed_scan.name) == ("", "")
    assert not convention.reports.exclude(file="").exists()
    # Personal data: the representatives, the members' accounts, the free-text answers.
    assert convention.representative_name == ELIMINATED
    assert list(convention.reviews.values_list("participants", flat=True)) == [ELIMINATED]
    for organisation in Organisation.objects.all():
        assert organisation.legal_representative_name == ELIMINATED
        assert organisation.legal_representative_email == ""
    for member in members.values():
        member.refresh_from_db()
        assert member.email == f"compte-{member.pk}@elimine.invalid"
        assert (member.first_name, member.last_name, member.is_active) == ("", "", False)
        assert not member.has_usable_password()
        assert not member.memberships.exists()
    assert not TOTPDevice.objects.filter(user=members["alpha"]).exists()
    assert not StaticDevice.objects.filter(user=members["alpha"]).exists()
    texts = Answer.objects.filter(question__kind="long_text", candidature=beta)
    assert set(texts.values_list("value", flat=True)) == {ELIMINATED}
    assert not Reading.objects.exists()
    # The e-mails that left (those never handed over in this test wait in the outbox).
    old_emails = OutgoingEmail.objects.filter(created_at__lt=bordereau.sent_at)
    assert not old_emails.exclude(status=EmailStatus.PENDING).exists()
    # What public accounts require stays: amounts, SIRET, names, decisions, payments.
    assert convention.amount == world["convention"].amount
    assert (convention.beneficiary_name, convention.beneficiary_siret) == (
        world["convention"].beneficiary_name,
        world["convention"].beneficiary_siret,
    )
    assert Organisation.objects.get(pk=alpha.organisation_id).siret == alpha.organisation.siret
    assert Organisation.objects.get(pk=beta.organisation_id).name == beta.organisation.name
    assert dict(Decision.objects.values_list("candidature_id", "outcome")) == decisions
    assert dict(Decision.objects.values_list("candidature_id", "amount_granted")) == amounts
    assert list(Payment.objects.values_list("amount", "paid_on", "status").order_by("pk")) == paid
    assert all(status == PaymentStatus.PAID for _a, _d, status in paid)
    assert Admissibility.objects.get(candidature=world["delta"]).outcome == "inadmissible"
    for key in KEYS:
        world[key].refresh_from_db()
        assert world[key].requested_amount == requested[key]
    # The trace: when, under which visa, what, counts and volumes per category.
    assert bordereau.eliminated_at is not None
    assert (bordereau.visa_reference, bordereau.visa_signatory_name) == (
        "AD38-2036-114",
        "Hélène Archiviste",
    )
    assert not bordereau.items.filter(eliminated_at__isnull=True).exists()
    for category in Category:
        volumes = [volume for listed_category, volume in listed if listed_category == category]
        row = bordereau.trace[category.value]
        assert (row["listed"], row["eliminated"], row["kept"]) == (len(volumes), len(volumes), 0)
    dossier_bytes = sum(
        bordereau.trace[category]["bytes"] for category in ("not_selected", "selected")
    )
    assert dossier_bytes == sum(default_size for default_size in _sizes(bordereau)) > 0
    assert bordereau.trace["selected"]["files"] == bordereau.items.get(candidature=alpha).file_count
    # The ordinary paths still refuse, and the visa no longer opens anything.
    convention.representative_name = "Quelqu'un"
    with pytest.raises(ContentLocked):
        convention.save()
    with pytest.raises(EliminationRefused), eliminating(beta.pk):
        pass
    answer = texts.first()
    answer.value = "Autre texte"
    with pytest.raises(CandidatureLocked):
        answer.save()
    # Nothing eliminated is listed again.
    with at_noon(years_after(11)):
        assert not [item for item in due(on=timezone.localdate()) if item.candidature]


def _sizes(bordereau):
    return BordereauItem.objects.filter(
        bordereau=bordereau, category__in=["not_selected", "selected"]
    ).values_list("volume", flat=True)


def test_the_narrow_path_opens_only_the_dossier_its_visa_names(
    admin_user, django_capture_on_commit_callbacks
):
    named, other = small_world()["dossier"], small_world()["dossier"]
    with at_noon(years_after(5)):
        bordereau = services.prepare_draft(on=timezone.localdate())
        bordereau.items.exclude(candidature=named).delete()  # the draft lists only one
        services.send_to_archives(bordereau, by=admin_user)
        services.record_visa(
            bordereau,
            by=admin_user,
            visa_date=timezone.localdate(),
            reference="AD38-2031-9",
            signatory_name="Hélène Archiviste",
            signatory_title="Directrice des archives départementales",
        )
        with django_capture_on_commit_callbacks(execute=False):  # the task is not run
            services.launch_elimination(bordereau, by=admin_user)
    named_answer = named.answers.filter(question__kind="long_text").first()
    other_answer = other.answers.filter(question__kind="long_text").first()
    with eliminating(named.pk):
        other_answer.value = "Changé"
        with pytest.raises(CandidatureLocked):
            other_answer.save()  # another dossier, inside the named one's elimination
        named_answer.value = ELIMINATED
        named_answer.save()
    with pytest.raises(EliminationRefused), eliminating(other.pk):
        pass
    named_answer.value = "Après"
    with pytest.raises(CandidatureLocked):
        named_answer.save()  # outside the context, the visa alone opens nothing


# Files that are not a dossier's: the call's blank templates, and the committee's records,
# each over a whole lot, kept with the decisions they carry.
NOT_A_DOSSIERS = {"aap.RequiredDocument", "evaluation.CommitteeRecord"}


def test_every_file_stored_under_a_dossier_is_counted_and_eliminated():
    stores_files = {
        model._meta.label
        for app in ("aap", "candidatures", "evaluation", "conventions")
        for model in apps.get_app_config(app).get_models()
        if file_fields(model)
    }
    counted = {model._meta.label for model in FILE_OWNERS if file_fields(model)}
    assert stores_files - NOT_A_DOSSIERS == counted

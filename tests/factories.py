"""Boring factories: an open call shaped like the seed call, and users with roles."""

import contextlib
import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from aap.models import (
    Call,
    Criterion,
    ExpectedAction,
    Lot,
    Programme,
    RequiredDocument,
    SubCriterion,
)
from aap.states import CallStatus
from core.models import User

PASSWORD = "mot-de-passe-de-test-1"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.test")
    first_name = "Prénom"
    last_name = factory.Sequence(lambda n: f"Nom{n}")
    email_verified_at = factory.LazyFunction(timezone.now)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            # get_or_create: a transactional test's flush removes the migration's groups.
            self.groups.set([Group.objects.get_or_create(name=name)[0] for name in extracted])
        if create:
            self.save()


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        django_get_or_create = ("short_name",)

    short_name = "PDI-E"
    name = "Programme départemental d'insertion vers l'emploi"
    start_year = 2023
    end_year = 2027


class CallFactory(factory.django.DjangoModelFactory):
    """A published call open for ten more days, with no lots or criteria yet."""

    class Meta:
        model = Call

    programme = factory.SubFactory(ProgrammeFactory)
    title = factory.Sequence(lambda n: f"Appel à projets de test {n}")
    reference = factory.Sequence(lambda n: f"AAP-TEST-{n:04d}")
    slug = factory.LazyAttribute(lambda call: call.reference.lower())
    year = 2024
    summary = "Un appel à projets pour les tests."
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=10))
    deadline = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=10))
    eligible_kinds = ["epci", "gip", "association"]
    priority_kinds = ["epci", "gip"]
    contact_email = "dso.ive@isere.fr"
    status = CallStatus.PUBLISHED


def add_structure(call, *, lots=2, weights=(Decimal("34"), Decimal("33"), Decimal("33"))):
    """Give ``call`` what publication requires: lots, weighted criteria, documents. The
    models take a structure only from a draft: the call is one meanwhile, then gets its
    status back."""
    with as_draft(call):
        _add_structure(call, lots=lots, weights=weights)
    return call


@contextlib.contextmanager
def as_draft(call):
    """Test data only: ``call`` is a draft while its structure is made."""
    status = Call.objects.values_list("status", flat=True).get(pk=call.pk)
    Call.objects.filter(pk=call.pk).update(status=CallStatus.DRAFT)
    try:
        yield call
    finally:
        Call.objects.filter(pk=call.pk).update(status=status)


def set_deadline(call, deadline):
    """Test data only: move ``call``'s deadline wherever the test needs it, even earlier
    (the models refuse that once the call is published)."""
    Call.objects.filter(pk=call.pk).update(deadline=deadline)
    call.deadline = deadline


def _add_structure(call, *, lots, weights):
    for index in range(lots):
        Lot.objects.create(call=call, position=index, name=f"Lot {index + 1}", fte=Decimal("0.5"))
    for index, weight in enumerate(weights):
        criterion = Criterion.objects.create(
            call=call, position=index, title=f"Critère {index + 1}", weight=weight
        )
        SubCriterion.objects.create(criterion=criterion, position=1, title="Sous-critère")
    RequiredDocument.objects.create(
        call=call, position=1, label="Dossier de demande de financement", allowed_formats=["pdf"]
    )
    ExpectedAction.objects.create(call=call, position=1, label="Co-animer des réunions")


def ready_call(**kwargs):
    return add_structure(CallFactory(**kwargs))


# --- Candidatures ---------------------------------------------------------------------------


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "candidatures.Organisation"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Communauté de communes test {n}")
    kind = "epci"
    siret = factory.Sequence(lambda n: _siret(n))
    address = "1 rue de la Mairie"
    postal_code = "38000"
    city = "Grenoble"
    legal_representative_name = "Claire Présidente"
    legal_representative_role = "Présidente"
    legal_representative_email = "presidence@exemple.test"

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        from candidatures.models import Membership

        for user in extracted or []:
            Membership.objects.create(organisation=self, user=user)


def _siret(n: int) -> str:
    """A distinct valid SIRET for each ``n``: a valid SIREN, then a NIC and its key."""
    from stdnum import luhn

    siren_body = f"{21000000 + n:08d}"
    siren = siren_body + luhn.calc_check_digit(siren_body)
    body = f"{siren}0001"
    return body + luhn.calc_check_digit(body)


def dossier_ready_call(**kwargs):
    """An open call with two lots, one mandatory PDF piece, one optional XLSX piece
    (several files) and three questions, two of them required."""
    call = ready_call(**kwargs)
    with as_draft(call):
        _add_form(call)
    return call


def _add_form(call):
    from aap.models import Question

    RequiredDocument.objects.create(
        call=call,
        position=2,
        label="Budgets prévisionnels",
        allowed_formats=["xlsx", "ods"],
        mandatory=False,
        multiple=True,
    )
    Question.objects.create(call=call, position=1, label="Lots sollicités", kind="lots")
    Question.objects.create(
        call=call, position=2, label="Résumé du projet", kind="long_text", max_length=500
    )
    Question.objects.create(call=call, position=3, label="Montant sollicité", kind="amount")
    Question.objects.create(
        call=call, position=4, label="Cofinancements", kind="long_text", required=False
    )

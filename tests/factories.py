"""Boring factories: an open call shaped like the seed call, and users with roles."""

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
    User,
)
from aap.states import CallStatus

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
            self.groups.set(Group.objects.filter(name__in=extracted))
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
    """Give ``call`` what publication requires: lots, weighted criteria, documents."""
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
    return call


def ready_call(**kwargs):
    return add_structure(CallFactory(**kwargs))

"""One person, one account: an address typed with full-width letters, in upper case or
with an accented domain names the same mailbox, on every path that meets an address."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse

from candidatures import services as candidatures
from core.addresses import normalise_email
from core.mail import queue_email
from core.models import OutgoingEmail, User
from core.roles import Role
from tests.factories import PASSWORD, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

FULL_WIDTH_DOMAIN = "alice@orga.ｔｅｓｔ"
FULL_WIDTH_LOCAL = "ａｌｉｃｅ@orga.test"


@pytest.fixture
def alice(db):
    return UserFactory(email="alice@orga.test", roles=[Role.CANDIDAT])


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        (FULL_WIDTH_DOMAIN, "alice@orga.test"),
        (FULL_WIDTH_LOCAL, "alice@orga.test"),
        ("  Alice@ORGA.Test ", "alice@orga.test"),
        ("alice@orga.test.", "alice@orga.test"),
        ("alice@Élan.fr", "alice@xn--lan-9la.fr"),
        ("alice@élan.fr", "alice@xn--lan-9la.fr"),
        ("sans-arobase", "sans-arobase"),
        ("", ""),
    ],
)
def test_addresses_are_brought_to_one_form(typed, canonical):
    assert normalise_email(typed) == canonical


def test_signup_with_a_full_width_domain_creates_nothing_and_warns_the_owner(
    client, alice, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:signup"),
            {
                "first_name": "Alice",
                "last_name": "Usurpée",
                "email": FULL_WIDTH_DOMAIN,
                "password1": "Une-phrase-de-passe-solide",
                "password2": "Une-phrase-de-passe-solide",
                "accept_terms": "on",
            },
        )

    assert response.status_code == 302
    assert User.objects.count() == 1
    [message] = mailoutbox
    assert message.to == ["alice@orga.test"]
    assert OutgoingEmail.objects.get().template == "account_exists"


def test_the_model_refuses_a_second_account_on_every_path(alice):
    # The shell and the admin go through save(): the canonical form meets the unique index.
    for typed in (FULL_WIDTH_DOMAIN, FULL_WIDTH_LOCAL):
        with pytest.raises(IntegrityError), transaction.atomic():
            User.objects.create_user(email=typed, password=PASSWORD)
        with pytest.raises(IntegrityError), transaction.atomic():
            User(email=typed).save()
    assert User.objects.count() == 1


def test_the_admin_refuses_a_staff_account_with_a_full_width_address(client, alice, admin_user):
    client.force_login(admin_user)

    response = client.post(
        "/admin/core/user/add/",
        {"email": FULL_WIDTH_DOMAIN, "first_name": "A", "last_name": "B", "_save": "1"},
    )

    assert response.status_code == 200
    assert "existe déjà" in response.content.decode()
    assert not User.objects.filter(last_name="B").exists()


def test_login_and_password_reset_accept_the_full_width_form(
    client, alice, django_capture_on_commit_callbacks, mailoutbox
):
    login = client.post(
        reverse("accounts:login"), {"username": FULL_WIDTH_LOCAL, "password": PASSWORD}
    )
    assert login.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)
    client.logout()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": FULL_WIDTH_DOMAIN})

    [message] = mailoutbox
    assert message.to == ["alice@orga.test"]


def test_messages_go_to_the_canonical_address(django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue_email(
            to=[FULL_WIDTH_DOMAIN, "ALICE@orga.test"],
            template="account_verification",
            context={"user": User(first_name="Alice"), "url": "https://aap.test/v"},
        )

    assert email.to == ["alice@orga.test"]
    [message] = mailoutbox
    assert message.to == ["alice@orga.test"]


def test_an_invitation_typed_in_full_width_is_accepted_by_its_owner(alice, candidate):
    organisation = OrganisationFactory(members=[candidate])

    invitation = candidatures.invite_member(organisation, by=candidate, email=FULL_WIDTH_DOMAIN)
    assert invitation.email == "alice@orga.test"
    candidatures.accept_invitation(invitation, user=alice)

    assert organisation.memberships.filter(user=alice).exists()
    with pytest.raises(Exception, match="déjà membre"):
        candidatures.invite_member(organisation, by=candidate, email="ALICE@ｏｒｇａ.test")


def test_the_command_lists_accounts_created_before_normalisation(alice, capsys):
    twin = UserFactory(email="placeholder@orga.test", last_name="Jumelle")
    # An account stored before addresses were normalised: written around save().
    User.objects.filter(pk=twin.pk).update(email=FULL_WIDTH_DOMAIN)
    UserFactory(email="bob@orga.test")

    with pytest.raises(CommandError) as refused:
        call_command("duplicate_accounts")

    assert refused.value.returncode == 1
    assert "1 adresse(s) en double" in str(refused.value)
    out = capsys.readouterr().out
    assert "alice@orga.test : 2 comptes" in out
    assert f"n° {alice.pk} 'alice@orga.test'" in out
    assert f"n° {twin.pk} '{FULL_WIDTH_DOMAIN}'" in out
    assert "Jumelle" in out
    assert "bob@" not in out


def test_the_command_says_when_there_is_no_duplicate(alice, capsys):
    call_command("duplicate_accounts")

    assert "Aucun doublon" in capsys.readouterr().out

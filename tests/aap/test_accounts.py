"""Accounts: sign-up and e-mail verification, login and lockout, password reset and
change, profile, staff invitations from the admin, and where each role lands."""

import datetime as dt
import html
import re
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import resolve, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.accounts.services import RESEND_WINDOW_SECONDS
from core.models import OutgoingEmail, User
from core.roles import Role
from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "Nouveau-mot-de-passe-2024"
# The middle of a resend window, so that two attempts a few seconds apart share it.
IN_A_WINDOW = dt.datetime(2024, 3, 12, 10, 3, tzinfo=dt.UTC)

SIGNUP_URL = reverse("accounts:signup")
LOGIN_URL = reverse("accounts:login")

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_lockout_left_by_another_test():
    # Axes keeps failed attempts in the database: each test starts with none.
    assert not AccessAttempt.objects.exists()


def signup_data(**overrides):
    return {
        "first_name": "Sacha",
        "last_name": "Martin",
        "email": "sacha.martin@asso-exemple.test",
        "job_title": "Chargée de mission",
        "phone": "04 76 00 00 00",
        "password1": "Une-phrase-de-passe-solide",
        "password2": "Une-phrase-de-passe-solide",
        "accept_terms": "on",
        **overrides,
    }


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def link_in(message) -> str:
    """The one link of an e-mail, after checking the HTML body carries it too."""
    links = re.findall(r"https?://\S+", message.body)
    assert len(links) == 1, message.body
    [(html_body, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert f'href="{links[0]}"' in html_body
    return links[0]


def path_of(url: str) -> str:
    return urlsplit(url).path


def sign_up(client, captured, **overrides):
    with captured(execute=True):
        return client.post(SIGNUP_URL, signup_data(**overrides))


def log_in(client, email, password=PASSWORD):
    return client.post(LOGIN_URL, {"username": email, "password": password})


def logged_in_id(client):
    return client.session.get(SESSION_KEY)


def set_password_through(client, link, password=NEW_PASSWORD):
    """Follow a password-reset-confirm link and choose ``password``."""
    form_page = client.get(path_of(link), follow=True)
    assert form_page.context["validlink"], "the link should be valid"
    set_password_url = form_page.redirect_chain[-1][0]
    return client.post(
        set_password_url,
        {"new_password1": password, "new_password2": password},
        follow=True,
    )


# --- Sign-up and e-mail verification ---------------------------------------------------


def test_signup_creates_an_unverified_candidate_and_sends_the_verification_link(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    response = sign_up(client, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response.url == reverse("accounts:signup_done")
    user = User.objects.get(email="sacha.martin@asso-exemple.test")
    assert user.email_verified_at is None
    assert (user.first_name, user.last_name) == ("Sacha", "Martin")
    assert (user.job_title, user.phone) == ("Chargée de mission", "04 76 00 00 00")
    assert user.check_password("Une-phrase-de-passe-solide")
    assert set(user.groups.values_list("name", flat=True)) == {Role.CANDIDAT}
    assert not user.is_staff and not user.is_superuser

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["sacha.martin@asso-exemple.test"]
    assert "Vérifiez votre adresse électronique" in message.subject
    link = link_in(message)
    assert link.startswith("http://testserver/")
    assert resolve(path_of(link)).view_name == "accounts:verify_email"
    assert OutgoingEmail.objects.get().template == "account_verification"

    done = client.get(response.url)
    assert "Un message vient d'être envoyé à sacha.martin@asso-exemple.test." in page_text(done)


def test_following_the_verification_link_verifies_the_address_and_then_login_works(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    sign_up(client, django_capture_on_commit_callbacks)
    link = link_in(mailoutbox[0])

    response = client.get(path_of(link), follow=True)

    assert response.redirect_chain[0][0].startswith(LOGIN_URL)
    assert response.resolver_match.view_name == "accounts:login"
    assert "Votre adresse électronique est vérifiée. Vous pouvez vous connecter." in page_text(
        response
    )
    user = User.objects.get(email="sacha.martin@asso-exemple.test")
    assert user.email_verified_at is not None

    login = log_in(client, "sacha.martin@asso-exemple.test", "Une-phrase-de-passe-solide")
    assert login.status_code == 302
    assert login.url == reverse("accounts:home")
    assert logged_in_id(client) == str(user.pk)
    landing = client.get(login.url)
    assert landing.url == reverse("candidatures:my_dossiers")


def test_a_tampered_verification_link_is_refused_with_the_french_page(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    sign_up(client, django_capture_on_commit_callbacks)
    link = path_of(link_in(mailoutbox[0]))
    tampered = link[:-2] + ("a/" if link[-2] != "a" else "b/")

    response = client.get(tampered)

    assert response.status_code == 400
    assert "Ce lien de vérification n'est plus valable" in page_text(response)
    assert User.objects.get().email_verified_at is None


def test_a_verification_link_with_an_unknown_account_is_refused(client):
    response = client.get(reverse("accounts:verify_email", args=["OTk5OTk", "abc-def"]))

    assert response.status_code == 400
    assert "Ce lien de vérification n'est plus valable" in page_text(response)


def test_a_verification_link_already_used_still_leads_to_login(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    sign_up(client, django_capture_on_commit_callbacks)
    link = path_of(link_in(mailoutbox[0]))
    client.get(link)
    verified_at = User.objects.get().email_verified_at

    again = client.get(link, follow=True)

    assert again.status_code == 200
    assert again.resolver_match.view_name == "accounts:login"
    assert "Votre adresse électronique est vérifiée." in page_text(again)
    assert User.objects.get().email_verified_at == verified_at


def test_a_forged_token_for_a_verified_account_is_refused_and_reveals_nothing(client, candidate):
    forged = reverse(
        "accounts:verify_email", args=[urlsafe_base64_encode(force_bytes(candidate.pk)), "abc-def"]
    )

    response = client.get(forged)

    assert response.status_code == 400
    assert candidate.email not in page_text(response)
    assert "Location" not in response.headers


# --- Login of an unverified address -------------------------------------------------------


def test_login_with_an_unverified_address_is_refused_and_resends_the_link_once_per_window(
    client, django_capture_on_commit_callbacks, mailoutbox, time_machine
):
    time_machine.move_to(IN_A_WINDOW, tick=False)
    user = UserFactory(email="nina@asso-exemple.test", email_verified_at=None)

    with django_capture_on_commit_callbacks(execute=True):
        first = log_in(client, "nina@asso-exemple.test")
        second = log_in(client, "nina@asso-exemple.test")

    for response in (first, second):
        assert response.status_code == 200
        assert (
            "Votre adresse électronique n'est pas encore vérifiée. Un lien de vérification "
            "vous a été envoyé" in page_text(response)
        )
    assert logged_in_id(client) is None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["nina@asso-exemple.test"]
    link = link_in(mailoutbox[0])

    # The link of the resent e-mail works.
    client.get(path_of(link))
    user.refresh_from_db()
    assert user.email_verified_at is not None


def test_an_unverified_login_in_the_next_window_sends_a_new_link(
    client, django_capture_on_commit_callbacks, mailoutbox, time_machine
):
    time_machine.move_to(IN_A_WINDOW, tick=False)
    UserFactory(email="nina@asso-exemple.test", email_verified_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        log_in(client, "nina@asso-exemple.test")

    time_machine.move_to(IN_A_WINDOW + dt.timedelta(seconds=RESEND_WINDOW_SECONDS))
    with django_capture_on_commit_callbacks(execute=True):
        log_in(client, "nina@asso-exemple.test")

    assert [message.to for message in mailoutbox] == [["nina@asso-exemple.test"]] * 2


# --- Sign-up with an address that already has an account -----------------------------


def test_signup_with_an_existing_address_in_another_case_creates_nothing_and_warns_the_owner(
    client, candidate, django_capture_on_commit_callbacks, mailoutbox
):
    users_before = User.objects.count()
    password_before = User.objects.get(pk=candidate.pk).password

    response = sign_up(
        client, django_capture_on_commit_callbacks, email="CAMILLE@EPCI-exemple.test"
    )

    assert response.status_code == 302
    assert response.url == reverse("accounts:signup_done")
    assert User.objects.count() == users_before
    candidate.refresh_from_db()
    assert candidate.password == password_before
    assert candidate.first_name != "Sacha"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["camille@epci-exemple.test"]
    assert "Tentative de création de compte" in message.subject
    assert link_in(message) == "http://testserver" + LOGIN_URL
    assert OutgoingEmail.objects.get().template == "account_exists"


def test_signup_shows_the_same_page_whether_or_not_the_address_exists(
    client, candidate, django_capture_on_commit_callbacks
):
    existing = sign_up(client, django_capture_on_commit_callbacks, email=candidate.email)
    existing_page = client.get(existing.url).content.decode()
    stranger = Client()
    new = sign_up(stranger, django_capture_on_commit_callbacks, email="inconnu@asso-exemple.test")
    new_page = stranger.get(new.url).content.decode()

    assert (existing.status_code, existing.url) == (new.status_code, new.url)
    assert existing_page.replace(candidate.email, "ADRESSE") == new_page.replace(
        "inconnu@asso-exemple.test", "ADRESSE"
    )


# --- Sign-up form refusals --------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "french_error"),
    [
        (
            {"password2": "Une-autre-phrase-de-passe"},
            "password2",
            "Les deux mots de passe ne sont pas identiques.",
        ),
        (
            {"password1": "azertyuiop", "password2": "azertyuiop"},
            "password1",
            "Ce mot de passe est trop courant.",
        ),
        (
            {"password1": "Court-1", "password2": "Court-1"},
            "password1",
            "Ce mot de passe est trop court. Il doit contenir au minimum 10 caractères.",
        ),
        ({"accept_terms": ""}, "accept_terms", "Ce champ est obligatoire."),
        ({"email": "pas-une-adresse"}, "email", "Saisissez une adresse de courriel valide."),
    ],
    ids=["password-mismatch", "common-password", "short-password", "terms", "email"],
)
def test_signup_form_refusals_are_explained_in_french_and_create_nothing(
    client, django_capture_on_commit_callbacks, mailoutbox, overrides, field, french_error
):
    response = sign_up(client, django_capture_on_commit_callbacks, **overrides)

    assert response.status_code == 200
    assert french_error in response.context["form"].errors[field]
    assert french_error in page_text(response)
    assert not User.objects.exists()
    assert not OutgoingEmail.objects.exists()
    assert mailoutbox == []


# --- Password reset -------------------------------------------------------------------------


def test_password_reset_emails_a_link_on_site_url_that_sets_a_new_password(
    client, candidate, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.SITE_URL = "https://aap.isere.example"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:password_reset"), {"email": "Camille@epci-exemple.test"}
        )

    assert response.url == reverse("accounts:password_reset_done")
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["camille@epci-exemple.test"]
    assert OutgoingEmail.objects.get().template == "password_reset"
    link = link_in(message)
    assert link.startswith("https://aap.isere.example/compte/mot-de-passe/nouveau/")

    done = set_password_through(client, link)

    assert done.resolver_match.view_name == "accounts:login"
    assert "Votre mot de passe est enregistré. Connectez-vous." in page_text(done)
    candidate.refresh_from_db()
    assert candidate.check_password(NEW_PASSWORD)
    assert log_in(client, candidate.email, NEW_PASSWORD).url == reverse("accounts:home")
    # The link served once.
    assert not client.get(path_of(link), follow=True).context["validlink"]


def test_password_reset_for_an_unknown_address_shows_the_same_page_and_sends_nothing(
    client, candidate, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post(
            reverse("accounts:password_reset"), {"email": "personne@nulle-part.test"}, follow=True
        )
    assert mailoutbox == []
    assert not OutgoingEmail.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(
            reverse("accounts:password_reset"), {"email": candidate.email}, follow=True
        )

    assert unknown.redirect_chain == known.redirect_chain
    assert unknown.content == known.content
    assert "Si un compte correspond à cette adresse" in page_text(unknown)
    assert len(mailoutbox) == 1


def test_password_reset_also_verifies_an_unverified_address(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    user = UserFactory(email="nina@asso-exemple.test", email_verified_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": user.email})

    set_password_through(client, link_in(mailoutbox[0]))

    user.refresh_from_db()
    assert user.email_verified_at is not None
    assert user.check_password(NEW_PASSWORD)
    assert log_in(client, user.email, NEW_PASSWORD).url == reverse("accounts:home")


# --- Password change and profile ------------------------------------------------------------


def test_a_logged_in_user_changes_their_password(client, candidate):
    client.force_login(candidate)

    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )

    assert response.resolver_match.view_name == "accounts:profile"
    assert "Votre mot de passe a été modifié." in page_text(response)
    candidate.refresh_from_db()
    assert candidate.check_password(NEW_PASSWORD)
    # Still logged in after the change.
    assert logged_in_id(client) == str(candidate.pk)


def test_password_change_with_a_wrong_old_password_is_refused_in_french(client, candidate):
    client.force_login(candidate)

    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": "pas-le-bon",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert "Votre ancien mot de passe est incorrect." in page_text(response)
    candidate.refresh_from_db()
    assert candidate.check_password(PASSWORD)


def test_profile_edit_saves_name_job_title_and_phone(client, candidate):
    client.force_login(candidate)

    response = client.post(
        reverse("accounts:profile"),
        {
            "first_name": "Camille",
            "last_name": "Durand",
            "job_title": "Directrice",
            "phone": "04 76 11 22 33",
            # Not a field of the form: ignored.
            "email": "autre@exemple.test",
        },
        follow=True,
    )

    assert "Vos informations ont été enregistrées." in page_text(response)
    candidate.refresh_from_db()
    assert (candidate.first_name, candidate.last_name) == ("Camille", "Durand")
    assert (candidate.job_title, candidate.phone) == ("Directrice", "04 76 11 22 33")
    assert candidate.email == "camille@epci-exemple.test"


# --- Failed-login lockout ---------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_address_even_for_the_right_password(client, candidate):
    for _attempt in range(4):
        refused = log_in(client, candidate.email, "mauvais-mot-de-passe")
        assert "Adresse électronique ou mot de passe incorrect." in page_text(refused)
    log_in(client, candidate.email, "mauvais-mot-de-passe")

    locked = log_in(client, candidate.email, PASSWORD)

    assert locked.status_code == 429
    assert "Connexion temporairement bloquée" in page_text(locked)
    assert logged_in_id(client) is None


def test_lockout_counts_the_address_whatever_its_case(client, candidate):
    for email in ["Camille@epci-exemple.test", "CAMILLE@EPCI-EXEMPLE.TEST"] * 2 + [
        "camille@epci-exemple.test"
    ]:
        log_in(client, email, "mauvais-mot-de-passe")

    locked = log_in(client, "cAmIlLe@epci-exemple.test", PASSWORD)

    assert locked.status_code == 429
    assert "Connexion temporairement bloquée" in page_text(locked)
    assert logged_in_id(client) is None
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {candidate.email}


def test_lockout_of_one_address_leaves_another_address_free(client, candidate, other_candidate):
    for _attempt in range(5):
        log_in(client, candidate.email, "mauvais-mot-de-passe")

    response = log_in(client, other_candidate.email, PASSWORD)

    assert response.status_code == 302
    assert response.url == reverse("accounts:home")
    assert logged_in_id(client) == str(other_candidate.pk)


def test_a_successful_login_before_the_limit_clears_the_failures(client, candidate):
    for _attempt in range(4):
        log_in(client, candidate.email, "mauvais-mot-de-passe")
    assert log_in(client, candidate.email, PASSWORD).status_code == 302
    client.logout()

    for _attempt in range(4):
        log_in(client, candidate.email, "mauvais-mot-de-passe")

    assert log_in(client, candidate.email, PASSWORD).status_code == 302
    assert logged_in_id(client) == str(candidate.pk)


# --- Logout ---------------------------------------------------------------------------------------


def test_logout_by_get_is_refused_and_keeps_the_session(client, candidate):
    client.force_login(candidate)

    response = client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert logged_in_id(client) == str(candidate.pk)


def test_logout_by_post_logs_out(client, candidate):
    client.force_login(candidate)

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response.url == reverse("aap:home")
    assert logged_in_id(client) is None
    assert client.get(reverse("accounts:profile")).url.startswith(LOGIN_URL)


# --- Staff accounts -------------------------------------------------------------------------------


def test_signup_never_grants_a_staff_role_or_flag(client, django_capture_on_commit_callbacks):
    instructeur_group = Group.objects.get(name=Role.INSTRUCTEUR)

    sign_up(
        client,
        django_capture_on_commit_callbacks,
        groups=[instructeur_group.pk],
        is_staff="on",
        is_superuser="on",
        email_verified_at="2024-01-01T00:00:00Z",
    )

    user = User.objects.get(email="sacha.martin@asso-exemple.test")
    assert set(user.groups.values_list("name", flat=True)) == {Role.CANDIDAT}
    assert not user.is_staff and not user.is_superuser
    assert user.email_verified_at is None


def test_admin_creates_a_staff_member_who_chooses_a_password_from_the_invitation(
    client, admin_user, django_capture_on_commit_callbacks, mailoutbox
):
    instructeur_group = Group.objects.get(name=Role.INSTRUCTEUR)
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/core/user/add/",
            {
                "email": "Ines.Nouvelle@isere.test",
                "first_name": "Inès",
                "last_name": "Nouvelle",
                "job_title": "Instructrice",
                "phone": "",
                "groups": [instructeur_group.pk],
                "_save": "Enregistrer",
            },
        )

    assert response.status_code == 302
    staff = User.objects.get(email="ines.nouvelle@isere.test")
    assert not staff.has_usable_password()
    assert staff.email_verified_at is not None
    assert list(staff.groups.values_list("name", flat=True)) == [Role.INSTRUCTEUR]
    assert not staff.is_superuser
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ines.nouvelle@isere.test"]
    assert OutgoingEmail.objects.get().template == "staff_invitation"
    assert "instructeur" in message.body
    link = link_in(message)
    assert resolve(path_of(link)).view_name == "accounts:password_reset_confirm"

    client.logout()
    done = set_password_through(client, link)
    assert done.resolver_match.view_name == "accounts:login"
    login = log_in(client, "ines.nouvelle@isere.test", NEW_PASSWORD)
    assert login.url == reverse("accounts:home")
    # Staff log in with a second factor: a new one enrols first (tests/core/test_second_factor.py).
    assert client.get(login.url).url.startswith(reverse("accounts:mfa_setup"))


def test_admin_refuses_a_staff_address_that_exists_in_another_case(client, admin_user, candidate):
    client.force_login(admin_user)

    response = client.post(
        "/admin/core/user/add/",
        {"email": "CAMILLE@epci-exemple.test", "first_name": "X", "last_name": "Y", "_save": "1"},
    )

    assert response.status_code == 200
    assert "existe déjà" in page_text(response)
    assert User.objects.filter(email__iexact=candidate.email).count() == 1


def test_admin_refuses_changing_an_address_to_one_that_exists_in_another_case(
    client, admin_user, candidate, other_candidate
):
    client.force_login(admin_user)
    change_url = f"/admin/core/user/{other_candidate.pk}/change/"
    data = client.get(change_url).context["adminform"].form.initial
    data = {
        "email": "CAMILLE@epci-exemple.test",
        "first_name": data["first_name"],
        "last_name": data["last_name"],
        "groups": [group.pk for group in other_candidate.groups.all()],
        "is_active": "on",
        "_save": "1",
    }

    response = client.post(change_url, data)

    assert response.status_code == 200
    assert "existe déjà" in page_text(response)
    other_candidate.refresh_from_db()
    assert other_candidate.email == "olivier@gip-exemple.test"


def test_an_invited_staff_member_whose_link_expired_can_ask_for_a_new_one(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    staff = UserFactory(email="ines.nouvelle@isere.test", roles=[Role.INSTRUCTEUR])
    staff.set_unusable_password()
    staff.save()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"email": staff.email})

    assert [message.to for message in mailoutbox] == [["ines.nouvelle@isere.test"]]
    set_password_through(client, link_in(mailoutbox[0]))
    staff.refresh_from_db()
    assert staff.check_password(NEW_PASSWORD)


# --- Where each role lands, and anonymous visitors ------------------------------------------


def test_home_sends_an_instructeur_to_the_back_office(client, instructeur):
    client.force_login(instructeur)

    assert client.get(reverse("accounts:home")).url == reverse("aap:backoffice_calls")


def test_home_sends_a_candidate_to_their_dossiers(client, candidate):
    client.force_login(candidate)

    response = client.get(reverse("accounts:home"), follow=True)

    assert response.redirect_chain == [(reverse("candidatures:my_dossiers"), 302)]
    assert "Mes dossiers" in page_text(response)


@pytest.mark.parametrize("name", ["accounts:home", "accounts:profile", "accounts:password_change"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, name):
    url = reverse(name)

    response = client.get(url, follow=True)

    assert response.redirect_chain == [(f"{LOGIN_URL}?next={url}", 302)]
    assert response.resolver_match.view_name == "accounts:login"
    assert "Se connecter" in page_text(response)


# --- Login -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["camille@epci-exemple.test", "CAMILLE@EPCI-EXEMPLE.TEST", " Camille@Epci-Exemple.test "],
)
def test_login_accepts_the_address_whatever_its_case(client, candidate, typed):
    response = log_in(client, typed)

    assert response.status_code == 302
    assert response.url == reverse("accounts:home")
    assert logged_in_id(client) == str(candidate.pk)
    candidate.refresh_from_db()
    assert candidate.last_login is not None

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.addresses import normalise_email
from core.forms import AddressField
from core.links import absolute_url
from core.mail import queue_email
from core.models import User


class LoginForm(auth_forms.AuthenticationForm):
    username = AddressField(
        label=_("Adresse électronique"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": _(
            "Adresse électronique ou mot de passe incorrect. Après plusieurs échecs, "
            "le compte est bloqué quelques minutes."
        ),
        "unverified": _(
            "Votre adresse électronique n'est pas encore vérifiée. Un lien de vérification "
            "vous a été envoyé : consultez votre messagerie, y compris les indésirables."
        ),
    }

    # Set by the view when the client's address has failed too often (core.throttle): the
    # form then refuses with it before any password is checked.
    refusal = None

    def clean(self):
        if self.refusal:
            raise forms.ValidationError(self.refusal, code="throttled")
        return super().clean()

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if user.email_verified_at is None:
            from core.accounts.services import send_verification

            send_verification(user)
            raise forms.ValidationError(self.error_messages["unverified"], code="unverified")


class SignupForm(forms.Form):
    first_name = forms.CharField(label=_("Prénom"), max_length=150)
    last_name = forms.CharField(label=_("Nom"), max_length=150)
    email = AddressField(
        label=_("Adresse électronique professionnelle"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    job_title = forms.CharField(label=_("Fonction"), max_length=150, required=False)
    phone = forms.CharField(label=_("Téléphone"), max_length=30, required=False)
    password1 = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    # The processing rests on a public-interest task (RGPD art. 6-1-e), not on consent: the
    # box records that the notice was read, and links to it.
    accept_terms = forms.BooleanField(
        label=_(
            "J'ai pris connaissance de la façon dont mes données sont traitées pour instruire "
            "les candidatures aux appels à projets."
        )
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["accept_terms"].help_text = format_html(
            '{} <a href="{}" target="_blank" rel="noopener" data-privacy-link>{}</a>{}',
            _("Lire la notice"),
            reverse("legal:privacy"),
            _("Données personnelles (nouvel onglet)"),
            _(" : finalités, destinataires, durées de conservation et vos droits."),
        )

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("Les deux mots de passe ne sont pas identiques."))
        elif password1:
            candidate = User(
                email=cleaned.get("email") or "",
                first_name=cleaned.get("first_name") or "",
                last_name=cleaned.get("last_name") or "",
            )
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's form, with the message going through the outbox."""

    email = AddressField(
        label=_("Adresse électronique"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def get_users(self, email):
        # Django skips accounts without a usable password; invited staff have none until
        # they follow their invitation, and this form is how they replace an expired one.
        # The message goes to the stored address, never to the one typed.
        return User.objects.filter(email__iexact=normalise_email(email), is_active=True)

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        user = context["user"]
        queue_email(
            to=to_email,
            template="password_reset",
            context={
                "user": user,
                "url": absolute_url(
                    "accounts:password_reset_confirm", uidb64=context["uid"], token=context["token"]
                ),
            },
            user=user,
        )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "job_title", "phone", "wants_daily_digest"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from core import rules

        if not rules.is_instructeur(self.instance):
            # The daily digest is for instructeurs only.
            del self.fields["wants_daily_digest"]


class SecondFactorCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code de vérification"),
        help_text=_(
            "Le code à 6 chiffres affiché par votre application d'authentification, "
            "ou l'un de vos codes de secours."
        ),
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class SecondFactorEnrolmentForm(forms.Form):
    secret = forms.CharField(widget=forms.HiddenInput)
    code = forms.CharField(
        label=_("Code à 6 chiffres affiché par l'application"),
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )

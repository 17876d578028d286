from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo import seed
from demo.loader import load_demo


def otpauth_uri(email: str, secret: str) -> str:
    """The address an authenticator application reads (as a QR code, or pasted)."""
    issuer = settings.OTP_TOTP_ISSUER
    return f"otpauth://totp/{quote(f'{issuer}:{email}')}?secret={secret}&issuer={quote(issuer)}"


class Command(BaseCommand):
    help = (
        "Charge l'appel à projets 2024 du seed (clos), une copie de démonstration ouverte "
        "30 jours et un compte de démonstration par rôle. Sans effet si déjà chargé."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-accounts", action="store_true", help="Ne pas créer les comptes de démonstration."
        )
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Créer les comptes de démonstration même quand DEBUG est désactivé.",
        )

    def handle(self, *args, no_accounts=False, allow_without_debug=False, **options):
        with_accounts = not no_accounts
        if with_accounts and not settings.DEBUG and not allow_without_debug:
            raise CommandError(
                "Les comptes de démonstration ont un mot de passe connu : ils ne sont créés "
                "que si DEBUG est activé (ou avec --allow-without-debug). Utilisez --no-accounts."
            )
        report = load_demo(with_accounts=with_accounts)
        for line in report.created:
            self.stdout.write(f"Créé : {line}")
        if not report.created:
            self.stdout.write("Données de démonstration déjà présentes : rien à faire.")
        if report.accounts:
            self.stdout.write(self.style.SUCCESS("\nComptes de démonstration :"))
            for email, role in report.accounts:
                self.stdout.write(f"  {email:<28} {role:<24} mot de passe : {seed.DEMO_PASSWORD}")
                secret = seed.DEMO_TOTP_SECRETS.get(email)
                if secret:
                    self.stdout.write(
                        f"  {'':<28} double authentification : clé {secret}\n"
                        f"  {'':<28} {otpauth_uri(email, secret)}"
                    )
            self.stdout.write(
                "\n  Code à 6 chiffres d'un compte agent (ou une application d'authentification) :\n"
                "  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('CLÉ').now())\""
            )

"""Accounts whose addresses name the same mailbox, created before addresses were
normalised (``alice@orga.test`` and ``alice@orga.ｔｅｓｔ``).

Nothing is merged or changed: merging two people's dossiers is an administrator's
decision, made account by account in the admin. The command exits with status 1 when
it finds any, so that it can run in monitoring.
"""

from collections import defaultdict

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.addresses import normalise_email
from core.dates import format_datetime
from core.models import User


def duplicate_groups() -> dict[str, list[User]]:
    """Canonical address → its accounts, oldest first, for addresses held by several."""
    groups = defaultdict(list)
    for user in User.objects.order_by("date_joined", "pk"):
        groups[normalise_email(user.email)].append(user)
    return {address: users for address, users in groups.items() if len(users) > 1}


class Command(BaseCommand):
    help = "Liste les comptes dont les adresses désignent la même boîte aux lettres."

    def handle(self, *args, **options):
        groups = duplicate_groups()
        if not groups:
            self.stdout.write(_("Aucun doublon : chaque adresse a un seul compte."))
            return
        for address, users in sorted(groups.items()):
            self.stdout.write(
                _("%(address)s : %(n)d comptes") % {"address": address, "n": len(users)}
            )
            for user in users:
                last_login = format_datetime(user.last_login) if user.last_login else _("jamais")
                self.stdout.write(
                    "  "
                    + _(
                        "n° %(pk)d %(email)r, %(name)s, créé le %(joined)s, "
                        "dernière connexion : %(login)s%(active)s"
                    )
                    % {
                        "pk": user.pk,
                        "email": user.email,
                        "name": user.get_full_name() or "—",
                        "joined": format_datetime(user.date_joined),
                        "login": last_login,
                        "active": "" if user.is_active else _(" (désactivé)"),
                    }
                )
        raise CommandError(
            _("%(n)d adresse(s) en double : à fusionner ou désactiver dans l'administration.")
            % {"n": len(groups)},
            returncode=1,
        )

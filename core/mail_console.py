"""E-mails printed in the terminal (``make run``), as a person reads them.

Django's console backend prints the raw MIME message: the HTML part in full and every
attachment as base64, pages of it for a receipt. This one prints the headers, the text
body, one line per attachment (name, type, size) and, below, every link of the body on a
line of its own, so that the verification link of a sign-up is easy to spot and open.
"""

import re

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

LINK = re.compile(r"https?://[^\s<>\"»]+")
RULE = "-" * 79


def _size(content) -> str:
    size = len(content.encode() if isinstance(content, str) else content)
    return filesizeformat(size)


def readable(message) -> str:
    """The text of ``message`` (an ``EmailMessage``) for a terminal."""
    lines = [
        RULE,
        f"{_('De')} : {message.from_email}",
        f"{_('À')} : {', '.join(message.to)}",
    ]
    if message.cc:
        lines.append(f"{_('Copie')} : {', '.join(message.cc)}")
    lines += [f"{_('Objet')} : {message.subject}", "", message.body.rstrip(), ""]
    attachments = []
    for attachment in message.attachments:
        if isinstance(attachment, tuple):
            name, content, mimetype = attachment
        else:  # a MIME part attached as such
            name = attachment.get_filename() or _("sans nom")
            content, mimetype = (
                attachment.get_payload(decode=True) or b"",
                attachment.get_content_type(),
            )
        attachments.append(f"  - {name} ({mimetype}, {_size(content)})")
    if attachments:
        lines += [_("Pièces jointes :"), *attachments, ""]
    for content, mimetype in getattr(message, "alternatives", []):
        lines.append(
            _("Version %(type)s aussi envoyée (%(size)s), non affichée.")
            % {
                "type": mimetype,
                "size": _size(content),
            }
        )
    links = list(dict.fromkeys(LINK.findall(message.body)))
    if links:
        lines += ["", _("Liens du message :"), *(f"  >>> {link}" for link in links)]
    lines += [RULE, ""]
    return "\n".join(lines)


class ConsoleEmailBackend(DjangoConsoleBackend):
    def write_message(self, message):
        self.stream.write(readable(message) + "\n")

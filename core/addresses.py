"""One person, one address: the canonical form of an e-mail address.

``alice@orga.ｔｅｓｔ`` (full-width letters) and ``Alice@ORGA.test`` are the same mailbox as
``alice@orga.test``: mail servers read them alike, so the platform must too. Every
address is brought to one form before it is compared, stored or written to:

- Unicode NFKC, which folds full-width and other compatibility characters;
- the domain in its IDNA (ASCII, « punycode ») form, which is what mail servers use;
- lower case, as mailbox providers treat addresses.
"""

import contextlib
import unicodedata


def normalise_email(address: str | None) -> str:
    address = unicodedata.normalize("NFKC", address or "").strip()
    local, at, domain = address.rpartition("@")
    if not at:
        return address.lower()
    domain = domain.rstrip(".")
    # The standard library's IDNA codec (nameprep: case folding, NFKC) per label. A domain
    # it cannot encode is left as typed, in lower case, for the validator to refuse.
    with contextlib.suppress(UnicodeError):
        domain = domain.encode("idna").decode("ascii")
    return f"{local.lower()}@{domain.lower()}"

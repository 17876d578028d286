"""Public pages kept rendered for anonymous visitors, under a key naming what they show;
and unbound forms kept rendered per version of their fields (``kept_form``).

A page is kept only for a visitor who is not logged in and has no message waiting: the
layout then holds no name, no CSRF token and no message, and is the same for everybody.
Logged-in visitors always get a page rendered for them, and never one kept.

The key is built by the caller from everything the page shows (its rows, its phase by
the clock…) and from ``release()``: a new version of the code, templates or
translations makes new keys, so a deployment never serves a page of the last one. A
cache that fails costs a rendering, never an error.
"""

import hashlib
import os
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib.messages import get_messages
from django.forms import ModelChoiceField
from django.http import HttpResponse
from django.utils import translation
from django.utils.safestring import mark_safe

from core import kept

# A kept page outlives neither a day of countdown nor a forgotten key for long.
PAGE_CACHE_SECONDS = 10 * 60
_SUFFIXES = {".py", ".html", ".txt", ".mo"}
_SKIPPED_DIRS = {".venv", "node_modules", "var", ".git", "tests", "static", "__pycache__"}


@cache
def release() -> str:
    """A digest of the platform's code, templates and translations (and of the static
    files' manifest, whose hashed names the pages hold), the same in every worker of a
    deployment. Read once per process."""
    digest = hashlib.sha256()
    base = Path(settings.BASE_DIR)
    paths = []
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(name for name in dirs if name not in _SKIPPED_DIRS)
        paths += [Path(folder) / name for name in sorted(files) if Path(name).suffix in _SUFFIXES]
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.is_file():
        paths.append(manifest)
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def is_shared(request) -> bool:
    """Whether ``request`` gets the page every anonymous visitor gets."""
    if request.method not in ("GET", "HEAD") or request.user.is_authenticated:
        return False
    # Counting the waiting messages does not mark them read: the page rendered for this
    # visitor shows them.
    return not len(get_messages(request))


def page_key(name: str, *parts) -> str:
    text = "\n".join(str(part) for part in (release(), translation.get_language(), *parts))
    return f"page:{name}:{hashlib.sha256(text.encode()).hexdigest()}"


def kept_or_rendered(key: str, render) -> HttpResponse:
    """The page kept under ``key``, else ``render()`` (a response), kept when it is a
    plain 200."""
    content = kept.read(key, f"page {key}")
    if content is not None:
        return HttpResponse(content)
    response = render()
    if hasattr(response, "render"):
        response.render()
    if response.status_code == 200 and not response.cookies:
        kept.keep(key, response.content, PAGE_CACHE_SECONDS, f"page {key}")
    return response


def kept_form(form, render) -> str:
    """``render(form)``, the HTML of an unbound form, kept per version of what it shows:
    its class, prefix and fields, each with its label, help, initial value and choices (a
    form whose ``__init__`` reads the database shows it there). A bound form holds the
    visitor's values and errors: it is rendered each time."""
    if form.is_bound:
        return render(form)
    parts = [type(form).__module__, type(form).__qualname__, form.prefix]
    for name, field in form.fields.items():
        choices = getattr(field, "choices", None)
        if isinstance(field, ModelChoiceField):
            # Read once, for the key and for the widget (validation reads the queryset).
            choices = field.widget.choices = list(iter(choices))  # len() would count them
        parts.append(
            (
                name,
                str(field.label),
                str(field.help_text),
                field.required,
                field.disabled,
                repr(form.get_initial_for_field(field, name)),
                [(str(value), str(label)) for value, label in choices] if choices else None,
            )
        )
    key = page_key("form", *parts)
    return mark_safe(kept.kept(key, lambda: str(render(form)), PAGE_CACHE_SECONDS, f"form {key}"))

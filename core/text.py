"""Text typed by people is text.

Where staff may format a text shown to candidates (a question's help), they write a
small Markdown subset: paragraphs, line breaks, lists, **bold**, *italics* and links to
http(s) pages. The Markdown parser has raw HTML switched off, and its output goes
through a sanitiser (nh3) that keeps only those few tags: a ``<script>`` or a
``<meta http-equiv="refresh">`` typed in the back-office reaches the page as the
characters the instructeur typed, never as markup.
"""

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "strong", "em", "code", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = {"http", "https"}

# "zero" is the preset with everything off, raw HTML included; only the subset is enabled.
_markdown = MarkdownIt("zero", {"breaks": True}).enable(
    ["list", "newline", "escape", "backticks", "emphasis", "link"]
)


def sanitise_html(html: str) -> SafeString:
    """Only the subset's tags survive; links are http(s) and open no window reference."""
    # nh3 has just removed every other tag and attribute.
    return mark_safe(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=ALLOWED_URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
        )
    )


def markdown_subset(value: str | None) -> SafeString:
    """A staff-written help text as safe HTML."""
    if not value:
        return mark_safe("")
    return sanitise_html(_markdown.render(value).strip())

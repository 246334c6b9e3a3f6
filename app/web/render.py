"""Templates, safe markdown and the filters pages use.

Markdown is rendered by markdown-it-py with raw HTML off and the result is cleaned by
nh3 on an allow-list, so no text anyone writes can put script into a page.
Images become links: an image from elsewhere would tell its host who read the page,
and the Content-Security-Policy would block it anyway.
"""

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import nh3
from fastapi import Request
from jinja2_fragments.fastapi import Jinja2Blocks
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml as escape_html
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markupsafe import Markup, escape
from starlette.responses import RedirectResponse, Response

from app.html_policy import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, URL_SCHEMES
from app.web.navigation import navigation
from app.web.session import template_globals

HERE = Path(__file__).parent


def _image_as_link(
    self: RendererHTML, tokens: list[Token], idx: int, options: Any, env: Any
) -> str:
    token = tokens[idx]
    src = escape_html(str(token.attrs.get("src", "")))
    label = escape_html(token.content or str(token.attrs.get("src", "")))
    return f'<a href="{src}">[image: {label}]</a>'


_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
_markdown.add_render_rule("image", _image_as_link)


def markdown(text: str | None) -> Markup:
    """Markdown as HTML that is safe to put in a page."""
    if not text:
        return Markup("")
    return _rendered(text)


# A thread is read far more often than it is written: the same texts are rendered again
# and again. Rendering is a pure function of the text, so the latest ones are kept.
@lru_cache(maxsize=2048)
def _rendered(text: str) -> Markup:
    return Markup(
        nh3.clean(
            _markdown.render(text),
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            url_schemes=URL_SCHEMES,
            link_rel="nofollow noopener",
        )
    )


def when(value: datetime | None) -> str:
    """A time as people read it: '3 Mar 2026, 14:05 UTC'."""
    if value is None:
        return ""
    value = value.astimezone(UTC)
    return f"{value.day} {value:%b %Y, %H:%M} UTC"


def ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the largest whole unit: 'just now', '5 minutes ago', '3 days ago'."""
    if value is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - value).total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("year", 31_536_000), ("month", 2_592_000), ("day", 86_400)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


# Small pieces that appear many times on a page (a thread shows a person and a time beside
# every comment), written as functions rather than macros: a Jinja macro call costs
# several times as much. Every value is escaped (markupsafe's C escape; Markup.format
# would cost as much as the macro).


def person(user: Any) -> Markup:
    """A person's name, linked to their profile."""
    href = quote(user.username, safe="")
    return Markup(f'<a class="person" href="/people/{href}">{escape(user.display_name)}</a>')


def timestamp(value: datetime) -> Markup:
    """'3 days ago', with the exact time on hover and for machines."""
    return Markup(f'<time datetime="{value.isoformat()}" title="{when(value)}">{ago(value)}</time>')


def day(value: datetime) -> Markup:
    """The day only: '3 Mar 2026'."""
    return Markup(f'<time datetime="{value.isoformat()}">{when(value).split(",")[0]}</time>')


def csrf_field(token: str) -> Markup:
    """The hidden field every form posts its CSRF token in."""
    return Markup(f'<input type="hidden" name="csrf_token" value="{escape(token)}">')


# How each validation state and question status reads on a page.
STATE_LABELS = {
    "endorsed": "Expert-endorsed",
    "corrected": "Corrected by an expert",
    "rejected": "Rejected by an expert",
    "awaiting_endorsement": "Awaiting endorsement",
    "stale": "Endorsement due for review",
    "unreviewed": "Not yet reviewed",
}
STATUS_LABELS = {"open": "Open", "resolved": "Validated answer", "closed": "Closed"}

templates = Jinja2Blocks(directory=str(HERE / "templates"))
templates.env.filters.update(markdown=markdown, when=when, ago=ago)
templates.env.globals.update(
    plural=plural,
    person=person,
    timestamp=timestamp,
    day=day,
    csrf_field=csrf_field,
    state_labels=STATE_LABELS,
    status_labels=STATUS_LABELS,
)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def is_htmx(request: Request) -> bool:
    """An htmx request (not a boosted page load) that wants a fragment."""
    return request.headers.get("hx-request") == "true"


FLASH_COOKIE = "vouch_flash"


def redirect(url: str, flash: str | None = None) -> Response:
    """See Other `url` (after a form: post, redirect, get), with a one-time message."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(flash), max_age=60, httponly=True, samesite="lax")
    return response


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    block: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The page `template` (or one of its blocks, for htmx) with the layout's context."""
    values = {**template_globals(request), **(context or {})}
    values["nav"] = navigation(values.get("current_user"), request.url.path)
    flash = request.cookies.get(FLASH_COOKIE)
    values.setdefault("flash", unquote(flash) if flash else None)
    kwargs: dict[str, Any] = {"block_name": block} if block else {}
    response = templates.TemplateResponse(
        request, template, values, status_code=status, headers=headers, **kwargs
    )
    if flash and not block:
        response.delete_cookie(FLASH_COOKIE)
    return response

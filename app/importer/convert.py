"""A dump's HTML bodies as Vouch's markdown.

The HTML is first cleaned on the web interface's own allow-list (nh3): script, style
and iframes go with their content, `javascript:` and other schemes lose their links,
unknown tags keep only their text. markdownify then writes the rest as markdown: code
blocks, inline code, links, lists, emphasis, headings, quotes and tables survive, and
images become markdown images, which the web interface shows as links.
"""

import re

import nh3
from markdownify import markdownify

from app.html_policy import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, URL_SCHEMES

_IMPORT_TAGS = ALLOWED_TAGS | {"img"}
_IMPORT_ATTRIBUTES = {**ALLOWED_ATTRIBUTES, "img": {"src", "alt", "title"}}
_BLANK_LINES = re.compile(r"\n{3,}")


def html_to_markdown(html: str) -> str:
    """`html` (a post body of the dump) as safe markdown, trimmed."""
    clean = nh3.clean(
        html,
        tags=_IMPORT_TAGS,
        attributes=_IMPORT_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
    )
    text = markdownify(clean, heading_style="ATX", bullets="-", code_language="")
    return _BLANK_LINES.sub("\n\n", text).strip()

"""Feedback text: clean what people type, and render its light formatting as safe HTML.

The stored text is plain; formatting is `**bold**`, `*italic*` or `_italic_`, lines starting
with `- ` as a list, and bare http(s) links. Everything is escaped first, so no markup a
person types ever reaches a page as markup.
"""

from __future__ import annotations

import re
import unicodedata

from markupsafe import Markup, escape

from app.core.errors import Invalid

MAX_BODY = 5000

_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_LINK = re.compile(r"\bhttps?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def clean(raw: object, *, field: str = "body", limit: int = MAX_BODY) -> str:
    """Return the text without control characters or trailing space, or raise Invalid."""
    if not isinstance(raw, str):
        raise Invalid(f"The {field} must be text.", field=field)
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Co")
    )
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    if not text:
        raise Invalid(f"The {field} is empty.", field=field)
    if len(text) > limit:
        raise Invalid(f"The {field} is at most {limit} characters.", field=field)
    return text


def _inline(line: str) -> str:
    html = str(escape(line))
    links: list[str] = []

    def keep_link(match: re.Match[str]) -> str:
        url = match.group(0)
        links.append(
            f'<a href="{url}" rel="noopener noreferrer nofollow" target="_blank">{url}</a>'
        )
        return f"\x00{len(links) - 1}\x00"

    # Links first, so that underscores inside a URL are not read as italics.
    html = _LINK.sub(keep_link, html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _ITALIC.sub(r"<em>\2</em>", html)
    return re.sub("\x00(\\d+)\x00", lambda m: links[int(m.group(1))], html)


def render(text: str) -> Markup:
    """Return the text as HTML: paragraphs, line breaks, lists, emphasis and links."""
    blocks: list[str] = []
    for para in text.split("\n\n"):
        # Group consecutive lines into runs of list items and runs of plain lines.
        runs: list[tuple[bool, list[str]]] = []
        for line in para.split("\n"):
            item = line.lstrip().startswith(("- ", "• "))
            content = line.lstrip()[2:] if item else line
            if runs and runs[-1][0] == item:
                runs[-1][1].append(content)
            else:
                runs.append((item, [content]))
        for item, lines in runs:
            if item:
                blocks.append("<ul>" + "".join(f"<li>{_inline(x)}</li>" for x in lines) + "</ul>")
            else:
                blocks.append("<p>" + "<br>".join(_inline(x) for x in lines) + "</p>")
    return Markup("".join(blocks))  # noqa: S704 - every piece was escaped by _inline

"""Readable text from an HTML page, with the standard library's parser.

Agents read pages to find companies, so what matters is the visible text and
where its links lead (a directory's entry links to the company's website).
Scripts, styles and other invisible parts are dropped, block elements become
line breaks, and each link's address follows its text in parentheses.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

SKIPPED = frozenset(
    {"script", "style", "noscript", "template", "svg", "canvas", "iframe", "head"}
)
BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li",
        "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
    }
)  # fmt: skip
VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "wbr", "source"})


def html_to_text(html: str, base_url: str = "") -> str:
    """The visible text of a page, one block per line, links shown as (URL).

    Args:
        html: The page's HTML.
        base_url: The page's address, to make relative links absolute.
    """
    parser = _TextParser(base_url)
    parser.feed(html)
    parser.close()
    return parser.text()


class _TextParser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.title = ""
        self._parts: list[str] = []
        self._skip_depth = 0
        self._in_title = False
        self._links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in SKIPPED and tag not in VOID:
            self._skip_depth += 1
        if tag in BLOCKS:
            self._parts.append("\n")
        if tag == "a":
            self._links.append(self._link(dict(attrs).get("href")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in SKIPPED and self._skip_depth:
            self._skip_depth -= 1
        if tag in BLOCKS:
            self._parts.append("\n")
        if tag == "a" and self._links:
            link = self._links.pop()
            if link and self._skip_depth == 0:
                self._parts.append(f" ({link})")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._skip_depth == 0:
            self._parts.append(data)

    def text(self) -> str:
        lines = []
        for line in "".join(self._parts).splitlines():
            squeezed = re.sub(r"\s+", " ", line).strip()
            if squeezed:
                lines.append(squeezed)
        title = re.sub(r"\s+", " ", self.title).strip()
        return "\n".join(([f"Title: {title}"] if title else []) + lines)

    def _link(self, href: str | None) -> str | None:
        if not href:
            return None
        url = urljoin(self.base_url, href.strip())
        return url if urlsplit(url).scheme in ("http", "https") else None

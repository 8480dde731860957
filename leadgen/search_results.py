"""Search hits read out of DuckDuckGo's HTML results page.

The keyless HTML endpoint returns a plain page: each hit is an anchor of
class ``result__a`` (its address wrapped in a ``/l/?uddg=`` redirect link)
followed by an element of class ``result__snippet``. Ads carry the class
``result--ad`` and are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Hit:
    """One organic search result."""

    title: str
    url: str
    snippet: str


def parse_duckduckgo(html: str) -> list[Hit]:
    """The organic results of a DuckDuckGo HTML page, in page order."""
    parser = _ResultsParser()
    parser.feed(html)
    parser.close()
    return [hit for hit in parser.hits if hit.url]


def result_url(href: str) -> str:
    """The target of a result link: unwrap DuckDuckGo's redirect, keep http(s)."""
    parts = urlsplit(href if "//" in href else "https:" + href)
    if parts.path.startswith("/l/"):
        target = parse_qs(parts.query).get("uddg", [""])[0]
        parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return parts.geturl()


class _ResultsParser(HTMLParser):
    """Collects (title, url, snippet) from result anchors and snippet elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hits: list[Hit] = []
        self._hit: dict[str, str] | None = None
        self._capture: str | None = None  # the field whose text is being read
        self._depth = 0
        self._text: list[str] = []
        self._in_ad = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if "result" in classes or "web-result" in classes:
            self._in_ad = "result--ad" in classes
        if self._capture is not None:
            self._depth += 1
        elif "result__a" in classes and not self._in_ad:
            self._flush()
            self._hit = {"url": result_url(values.get("href") or ""), "snippet": ""}
            self._begin("title")
        elif "result__snippet" in classes and self._hit is not None:
            self._begin("snippet")

    def handle_endtag(self, tag: str) -> None:
        if self._capture is None:
            return
        if self._depth:
            self._depth -= 1
            return
        assert self._hit is not None
        self._hit[self._capture] = re.sub(r"\s+", " ", "".join(self._text)).strip()
        self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture is not None:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._flush()

    def _begin(self, field: str) -> None:
        self._capture = field
        self._depth = 0
        self._text = []

    def _flush(self) -> None:
        if self._hit is not None:
            hit = self._hit
            self.hits.append(Hit(hit.get("title", ""), hit["url"], hit["snippet"]))
        self._hit = None

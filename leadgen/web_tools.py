"""Web search and page reading for agents whose provider does not search.

The Responses API searches the web itself; chat-completions servers and
LiteLLM models get these two function tools instead. ``web_search`` asks a
keyless backend by default (DuckDuckGo's HTML results page) or Tavily when a
key is configured. ``fetch_page`` reads one http(s) page within a time and
size limit and returns its readable text. Every connection, redirects
included, goes through ``leadgen.netguard``, so neither tool can reach
loopback, private or cloud metadata addresses.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx2
from agents import FunctionTool, function_tool

from leadgen.netguard import AddressPolicy, BlockedAddressError, guarded_client
from leadgen.page_text import html_to_text
from leadgen.search_results import parse_duckduckgo

DUCKDUCKGO_URL = "https://html.duckduckgo.com/html/"
TAVILY_URL = "https://api.tavily.com/search"

# Tests replace this to reach their own local server; nothing else should.
address_policy = AddressPolicy()

FETCH_SECONDS = 20.0
SEARCH_SECONDS = 15.0
MAX_BYTES = 2_000_000
MAX_REDIRECTS = 5
MAX_TEXT_CHARS = 20_000
SEARCH_RESULTS = 8
HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/ld+json")


class WebToolError(Exception):
    """A search or page fetch failed; the message says why in one line."""


@dataclass(frozen=True)
class Page:
    """The readable text of a fetched page."""

    url: str
    text: str
    truncated: bool


@dataclass(frozen=True)
class SearchResult:
    """One web search hit."""

    title: str
    url: str
    snippet: str


async def fetch_page_text(
    url: str,
    *,
    policy: AddressPolicy | None = None,
    seconds: float = FETCH_SECONDS,
    max_bytes: int = MAX_BYTES,
) -> Page:
    """Fetch an http(s) page and return its readable text.

    Redirects are followed by hand, at most ``MAX_REDIRECTS``, each to an
    http(s) address whose connection is checked again.

    Raises:
        BlockedAddressError: when the page or a redirect leads to an address
            that is not public.
        WebToolError: for other schemes, HTTP errors, unsupported content,
            too many redirects or when it takes longer than ``seconds``.
    """
    policy = policy or address_policy
    try:
        async with asyncio.timeout(seconds):
            async with guarded_client(policy, seconds) as client:
                return await _follow(client, url, max_bytes)
    except TimeoutError:
        raise WebToolError(f"{url}: no complete answer within {seconds:g} s") from None
    except (httpx2.HTTPError, httpx2.InvalidURL, UnicodeError) as exc:
        raise WebToolError(f"{url}: {_reason(exc)}") from None


async def _follow(client: httpx2.AsyncClient, url: str, max_bytes: int) -> Page:
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        _require_http(current)
        async with client.stream("GET", current) as response:
            if response.is_redirect:
                location = response.headers.get("location")
                if not location:
                    raise WebToolError(f"{current}: redirect without a location")
                current = _join(str(response.url), location)
                continue
            if response.status_code >= 400:
                raise WebToolError(
                    f"{current}: the server answered HTTP {response.status_code}"
                )
            body, truncated = await _read_limited(response, max_bytes)
            text = _readable(response, body, current)
            return Page(
                url=current,
                text=text[:MAX_TEXT_CHARS],
                truncated=truncated or len(text) > MAX_TEXT_CHARS,
            )
    raise WebToolError(f"{url}: more than {MAX_REDIRECTS} redirects")


def _join(base: str, location: str) -> str:
    try:
        return urljoin(base, location)
    except ValueError:
        return location  # unusable; the next hop's scheme check refuses it


def _require_http(url: str) -> None:
    try:
        parts = urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        usable = False
    if not usable:
        raise WebToolError(f"{url!r}: only http and https addresses can be fetched")


async def _read_limited(
    response: httpx2.Response, max_bytes: int
) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= max_bytes:
            return b"".join(chunks)[:max_bytes], True
    return b"".join(chunks), False


def _readable(response: httpx2.Response, body: bytes, url: str) -> str:
    content_type = response.headers.get("content-type", "text/html").lower()
    text = body.decode(response.charset_encoding or "utf-8", errors="replace")
    if content_type.startswith(HTML_TYPES):
        return html_to_text(text, base_url=url)
    if content_type.startswith(TEXT_TYPES):
        return text
    kind = content_type.split(";")[0] or "unknown"
    raise WebToolError(f"{url}: cannot read {kind} content")


async def search_web(
    query: str,
    *,
    backend: str = "duckduckgo",
    api_key: str | None = None,
    policy: AddressPolicy | None = None,
    limit: int = SEARCH_RESULTS,
) -> list[SearchResult]:
    """Search the web with the configured backend.

    Raises:
        WebToolError: when the backend cannot be reached or refuses.
        BlockedAddressError: when a backend address is not public.
    """
    policy = policy or address_policy
    try:
        async with asyncio.timeout(SEARCH_SECONDS):
            async with guarded_client(policy, SEARCH_SECONDS) as client:
                if backend == "tavily":
                    return await _tavily(client, query, api_key, limit)
                return await _duckduckgo(client, query, limit)
    except TimeoutError:
        raise WebToolError(f"search took longer than {SEARCH_SECONDS:g} s") from None
    except (httpx2.HTTPError, httpx2.InvalidURL, UnicodeError) as exc:
        raise WebToolError(f"search failed: {_reason(exc)}") from None


async def _duckduckgo(
    client: httpx2.AsyncClient, query: str, limit: int
) -> list[SearchResult]:
    response = await client.get(DUCKDUCKGO_URL, params={"q": query, "kl": "us-en"})
    if response.status_code != 200:
        raise WebToolError(f"the search engine answered HTTP {response.status_code}")
    hits = parse_duckduckgo(response.text)[:limit]
    return [SearchResult(hit.title, hit.url, hit.snippet) for hit in hits]


async def _tavily(
    client: httpx2.AsyncClient, query: str, api_key: str | None, limit: int
) -> list[SearchResult]:
    if not api_key:
        raise WebToolError("the Tavily search needs TAVILY_API_KEY")
    response = await client.post(
        TAVILY_URL,
        json={"query": query, "max_results": limit, "search_depth": "basic"},
        headers={"Authorization": f"Bearer {api_key}"},
    )
    if response.status_code != 200:
        raise WebToolError(f"the search service answered HTTP {response.status_code}")
    try:
        results: Any = response.json().get("results", [])
    except ValueError:
        raise WebToolError("the search service sent an unreadable answer") from None
    return [
        SearchResult(
            title=str(item.get("title") or ""),
            url=str(item.get("url") or ""),
            snippet=str(item.get("content") or "")[:500],
        )
        for item in results[:limit]
        if isinstance(item, dict) and item.get("url")
    ]


def web_tools(backend: str, search_key: str | None) -> list[FunctionTool]:
    """The ``web_search`` and ``fetch_page`` function tools for one region agent.

    Failures come back to the model as a one-line message, so it can try
    another query or page instead of the region failing.
    """

    @function_tool(name_override="web_search")
    async def web_search(query: str) -> str:
        """Search the web; returns up to eight results as JSON (title, url, snippet).

        Args:
            query: What to look for. Name the city or neighbourhood to keep the
                results inside the region.
        """
        try:
            results = await search_web(query, backend=backend, api_key=search_key)
        except (WebToolError, BlockedAddressError) as exc:
            return f"Search failed: {exc}"
        return json.dumps([asdict(result) for result in results])

    @function_tool(name_override="fetch_page")
    async def fetch_page(url: str) -> str:
        """Read a web page; returns its visible text with links shown as (URL).

        Args:
            url: The http or https address of the page to read.
        """
        try:
            page = await fetch_page_text(url)
        except (WebToolError, BlockedAddressError) as exc:
            return f"Could not read the page: {exc}"
        more = "\n[the page was cut short]" if page.truncated else ""
        return f"URL: {page.url}\n{page.text}{more}"

    return [web_search, fetch_page]


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__

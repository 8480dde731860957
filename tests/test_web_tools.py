"""Page fetches and web search: public addresses only, readable text, no network.

Every fetch here goes to the local fake server. Loopback is refused unless a
test names the server's port in the address policy, which is exactly how a
redirect to another local port or to a metadata address is shown to fail.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from leadgen import web_tools
from leadgen.netguard import AddressPolicy, BlockedAddressError, refusal
from leadgen.web_tools import WebToolError, fetch_page_text, search_web

from .fake_openai import FakeOpenAI


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(tavily_key="tvly-test-key") as running:
        yield running


def _allow(server: FakeOpenAI) -> AddressPolicy:
    return AddressPolicy(loopback_ports=frozenset({server.port}))


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        pytest.param("127.0.0.1", "a loopback address", id="loopback-v4"),
        pytest.param("::1", "a loopback address", id="loopback-v6"),
        pytest.param("10.1.2.3", "a private address", id="private-10"),
        pytest.param("172.16.0.9", "a private address", id="private-172"),
        pytest.param("192.168.1.1", "a private address", id="private-192"),
        pytest.param("fd12:3456::1", "a private address", id="unique-local-v6"),
        pytest.param("169.254.10.10", "a link-local address", id="link-local"),
        pytest.param("fe80::1", "a link-local address", id="link-local-v6"),
        pytest.param("169.254.169.254", "a cloud metadata address", id="metadata"),
        pytest.param("fd00:ec2::254", "a cloud metadata address", id="metadata-v6"),
        pytest.param("100.100.100.200", "a cloud metadata address", id="metadata-ali"),
        pytest.param("100.64.0.1", "a carrier-grade NAT address", id="cgnat"),
        pytest.param("224.0.0.1", "a multicast address", id="multicast"),
        pytest.param("ff02::1", "a multicast address", id="multicast-v6"),
        pytest.param("240.0.0.1", "a private address", id="reserved"),
        pytest.param("0.0.0.0", "an unspecified address", id="unspecified"),
        pytest.param("::ffff:10.0.0.1", "a private address", id="v4-mapped"),
        pytest.param("2002:7f00:1::", "a loopback address", id="6to4-loopback"),
        pytest.param("64:ff9b::a9fe:a9fe", "a cloud metadata address", id="nat64"),
        pytest.param("93.184.215.14", None, id="public-v4"),
        pytest.param("2606:4700::1111", None, id="public-v6"),
    ],
)
def test_only_public_addresses_are_allowed(address: str, expected: str | None) -> None:
    assert refusal(address, 80, AddressPolicy()) == expected


def test_loopback_exception_covers_only_the_listed_port() -> None:
    policy = AddressPolicy(loopback_ports=frozenset({8123}))

    assert refusal("127.0.0.1", 8123, policy) is None
    assert refusal("127.0.0.1", 8124, policy) == "a loopback address"
    assert refusal("10.0.0.1", 8123, policy) == "a private address"


def test_fetch_returns_visible_text_and_links(server: FakeOpenAI) -> None:
    url = server.url("/pages/directory?q=" + quote("property managers in Uptown"))

    page = asyncio.run(fetch_page_text(url, policy=_allow(server)))

    assert page.text.splitlines()[0] == "Title: Managers directory"
    assert "Uptown Summit Property Management (https://uptown-summit.example)" in (
        page.text
    )
    assert "Secret Script Company" not in page.text
    assert "color: red" not in page.text
    assert not page.truncated


def test_loopback_is_refused_by_default(server: FakeOpenAI) -> None:
    with pytest.raises(BlockedAddressError, match="127.0.0.1, a loopback address"):
        asyncio.run(fetch_page_text(server.url("/pages/directory")))

    assert not server.requests


def test_redirect_to_an_allowed_page_is_followed(server: FakeOpenAI) -> None:
    target = server.url("/pages/directory?q=Uptown")

    page = asyncio.run(
        fetch_page_text(
            server.url("/redirect?to=" + quote(target, safe="")),
            policy=_allow(server),
        )
    )

    assert page.url == target
    assert "Uptown Harbor Property Management" in page.text


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        pytest.param(
            "http://127.0.0.1:{other}/", "a loopback address", id="other-port"
        ),
        pytest.param("http://localhost:{other}/", "a loopback address", id="localhost"),
        pytest.param("http://[::1]:{other}/", "a loopback address", id="loopback-v6"),
        pytest.param(
            "http://169.254.169.254/latest/meta-data/",
            "a cloud metadata address",
            id="metadata",
        ),
        pytest.param("http://10.0.0.7/admin", "a private address", id="private"),
    ],
)
def test_redirect_to_a_forbidden_address_is_refused(
    server: FakeOpenAI, target: str, reason: str
) -> None:
    # A second local server that would answer if the redirect were followed.
    with FakeOpenAI() as other:
        location = target.format(other=other.port)
        first_hop = server.url("/redirect?to=" + quote(location, safe=""))

        with pytest.raises(BlockedAddressError, match=reason):
            asyncio.run(fetch_page_text(first_hop, policy=_allow(server)))

        assert [r.path for r in server.requests] == ["/redirect"]
        assert other.requests == []


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("file:///etc/passwd", id="file"),
        pytest.param("ftp://example.com/list.txt", id="ftp"),
        pytest.param("gopher://example.com/", id="gopher"),
        pytest.param("not a url", id="no-scheme"),
    ],
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    with pytest.raises(WebToolError, match="only http and https"):
        asyncio.run(fetch_page_text(url))


def test_size_limit_cuts_the_page_short(server: FakeOpenAI) -> None:
    page = asyncio.run(
        fetch_page_text(server.url("/pages/big"), policy=_allow(server), max_bytes=5000)
    )

    assert page.truncated
    assert len(page.text) <= 5000


def test_binary_content_is_refused(server: FakeOpenAI) -> None:
    with pytest.raises(WebToolError, match="cannot read application/octet-stream"):
        asyncio.run(fetch_page_text(server.url("/pages/binary"), policy=_allow(server)))


def test_time_limit_stops_a_slow_page(server: FakeOpenAI) -> None:
    slow = server.url("/pages/slow")

    with pytest.raises(WebToolError, match="no complete answer within 0.5 s"):
        asyncio.run(fetch_page_text(slow, policy=_allow(server), seconds=0.5))

    assert server.disconnects.wait(5), "the server never saw the client hang up"


def test_http_errors_are_reported(server: FakeOpenAI) -> None:
    with pytest.raises(WebToolError, match="HTTP 404"):
        asyncio.run(fetch_page_text(server.url("/missing"), policy=_allow(server)))


def test_duckduckgo_results_are_unwrapped_and_ads_skipped(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_tools, "DUCKDUCKGO_URL", server.url("/search"))

    results = asyncio.run(
        search_web("property managers in Uptown", policy=_allow(server))
    )

    assert len(results) == 1
    assert results[0].title == "Property managers directory"
    assert results[0].url == server.url(
        "/pages/directory?q=" + quote("property managers in Uptown")
    )
    assert results[0].snippet == "Every local manager."


@pytest.mark.parametrize(
    ("key", "found"),
    [
        pytest.param("tvly-test-key", 1, id="right-key"),
        pytest.param("wrong", 0, id="wrong-key"),
    ],
)
def test_tavily_backend_sends_its_key(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, key: str, found: int
) -> None:
    monkeypatch.setattr(web_tools, "TAVILY_URL", server.url("/tavily"))

    async def search() -> int:
        results = await search_web(
            "managers", backend="tavily", api_key=key, policy=_allow(server)
        )
        return len(results)

    if found:
        assert asyncio.run(search()) == found
    else:
        with pytest.raises(WebToolError, match="HTTP 401"):
            asyncio.run(search())


def test_search_backend_address_is_checked_too(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(web_tools, "DUCKDUCKGO_URL", server.url("/search"))

    with pytest.raises(BlockedAddressError):
        asyncio.run(search_web("anything"))

"""A small OpenAI-compatible server on 127.0.0.1, for tests that use HTTP.

It answers ``POST /v1/chat/completions``, ``POST /v1/responses`` and
``GET /v1/models`` the way a model would for a region agent: first a tool call,
then a JSON lead list built from what the tools returned. It also serves the
little web those tools see: a DuckDuckGo-like results page (``/search``), a
Tavily-like API (``/tavily``), directory pages (``/pages/...``) and redirects.

Faults are scripted per region, one per model request, in order: ``429``
(with Retry-After), ``500``, ``slow`` (answers after the client's timeout),
``malformed`` (a 200 whose body is not JSON), ``stall`` (holds the request
until the client hangs up), ``echo-key`` (a 401 quoting the key it got) and
``bad-answer`` (the next final answer does not match the schema).
``reject_json_schema`` makes it refuse structured output like many compatible
servers do. It stops by itself after ``lifetime`` seconds.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import select
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from leadgen.pool import PRELOAD, ExecutorFactory
from leadgen.tasks import init_worker

USAGE = {"input": 1000, "cached": 200, "output": 100, "reasoning": 20}
QUERY_PREFIX = "property managers in "
REJECTION = "response_format type 'json_schema' is not supported"


def region_companies(region: str) -> list[dict[str, Any]]:
    """The two fictional companies the fake web knows in a region."""
    slug = re.sub(r"[^a-z0-9]+", "-", region.lower()).strip("-")
    return [
        {
            "name": f"{region} {kind} Property Management",
            "website": f"https://{slug}-{kind.lower()}.example",
            "phone": f"(303) 555-01{10 + i:02d}",
            "street_address": f"{100 + i} Main St",
            "city": "Denver",
            "state": "CO",
            "postal_code": "80202",
        }
        for i, kind in enumerate(("Summit", "Harbor"))
    ]


@dataclass
class Recorded:
    """One request the server received."""

    path: str
    region: str | None
    authorization: str | None
    body: dict[str, Any]
    at: float
    answer: str = ""


@dataclass
class _State:
    faults: dict[str, list[str]]
    reject_json_schema: bool
    retry_after: str
    slow_seconds: float
    tavily_key: str | None
    api_key: str | None
    requests_per_minute: int | None = None
    admitted: list[float] = field(default_factory=list)
    refused: int = 0
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    disconnects: threading.Event = field(default_factory=threading.Event)


class FakeOpenAI:
    """The server, started and stopped as a context manager."""

    def __init__(
        self,
        *,
        faults: dict[str, list[str]] | None = None,
        reject_json_schema: bool = False,
        retry_after: str = "1",
        slow_seconds: float = 3.0,
        tavily_key: str | None = None,
        api_key: str | None = None,
        lifetime: float = 60.0,
        requests_per_minute: int | None = None,
    ) -> None:
        self.state = _State(
            faults={k: list(v) for k, v in (faults or {}).items()},
            reject_json_schema=reject_json_schema,
            retry_after=retry_after,
            slow_seconds=slow_seconds,
            tavily_key=tavily_key,
            api_key=api_key,
            requests_per_minute=requests_per_minute,
        )
        self.lifetime = lifetime
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self._server.timeout = 0.05
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def requests(self) -> list[Recorded]:
        with self.state.lock:
            return list(self.state.requests)

    def model_requests(self, region: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.path.startswith("/v1/")
            and r.path != "/v1/models"
            and (region is None or r.region == region)
        ]

    @property
    def disconnects(self) -> threading.Event:
        return self.state.disconnects

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.state.stop.set()
        self._thread.join(timeout=10)
        self._server.server_close()

    def _serve(self) -> None:
        deadline = time.monotonic() + self.lifetime
        while not self.state.stop.is_set() and time.monotonic() < deadline:
            self._server.handle_request()


class _Server(ThreadingHTTPServer):
    state: _State

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer is expected here


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 5  # a connection that sends nothing cannot hold the server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self._record(parts.path, {}, None)
        if parts.path.startswith("/v1/") and not self._key_ok():
            self._json(401, {"error": {"message": "invalid api key"}})
        elif parts.path == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": "fake-model"}]})
        elif parts.path == "/search":
            self._html(200, _results_page(self._origin(), query.get("q", "")))
        elif parts.path == "/pages/directory":
            self._html(200, _directory_page(_region_in(query.get("q", ""))))
        elif parts.path == "/pages/big":
            self._html(200, "<p>" + "x" * 200_000 + "</p>")
        elif parts.path == "/pages/slow":
            self._wait_for_hang_up()
        elif parts.path == "/pages/binary":
            self._send(200, b"\x00\x01", "application/octet-stream")
        elif parts.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", query.get("to", "/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        path = urlsplit(self.path).path
        if path == "/tavily":
            self._record(path, body, None)
            self._tavily(body)
            return
        region = _region_of(body)
        recorded = self._record(path, body, region)
        if not self._key_ok():
            self._json(401, {"error": {"message": "invalid api key"}})
            return
        if self._over_limit():
            return
        if self._fault(region, body, recorded):
            return
        take_bad = self._bad_answer_taker(region)
        if path == "/v1/chat/completions":
            self._json(200, _chat_reply(body, region, recorded, take_bad))
        elif path == "/v1/responses":
            self._json(200, _responses_reply(body, region, recorded, take_bad))
        else:
            self._json(404, {"error": {"message": "not found"}})

    def _over_limit(self) -> bool:
        """Refuse with 429 when the last minute already had its requests."""
        state = self.server.state
        if state.requests_per_minute is None:
            return False
        now = time.monotonic()
        with state.lock:
            state.admitted[:] = [t for t in state.admitted if now - t < 60.0]
            if len(state.admitted) < state.requests_per_minute:
                state.admitted.append(now)
                return False
            state.refused += 1
            wait = 60.0 - (now - state.admitted[0])
        self.send_response(429)
        self.send_header("Retry-After", f"{max(1, round(wait))}")
        self._finish_json({"error": {"message": "rate limit", "type": "rate_limit"}})
        return True

    def _fault(self, region: str | None, body: dict[str, Any], rec: Recorded) -> bool:
        """Answer with the region's next scripted fault; True if one was sent."""
        state = self.server.state
        if state.reject_json_schema and _asks_json_schema(body):
            rec.answer = "400"
            self._json(
                400,
                {
                    "error": {
                        "message": REJECTION,
                        "type": "invalid_request_error",
                        "param": "response_format",
                    }
                },
            )
            return True
        with state.lock:
            queue = state.faults.get(region or "", [])
            fault = queue.pop(0) if queue and queue[0] != "bad-answer" else None
        rec.answer = fault or ""
        if fault == "429":
            self.send_response(429)
            self.send_header("Retry-After", state.retry_after)
            self._finish_json({"error": {"message": "slow down", "type": "rate_limit"}})
        elif fault == "500":
            self._json(500, {"error": {"message": "boom", "type": "server_error"}})
        elif fault == "echo-key":
            quoted = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            message = f"Incorrect API key provided: {quoted}"
            self._json(401, {"error": {"message": message}})
        elif fault == "malformed":
            self._send(200, b'{"id": "resp_1", "output": [', "application/json")
        elif fault == "slow":
            state.stop.wait(state.slow_seconds)
            return False  # then answer normally; the client has given up by now
        elif fault == "stall":
            self._wait_for_hang_up()
        return fault is not None

    def _key_ok(self) -> bool:
        expected = self.server.state.api_key
        return expected is None or self.headers.get("Authorization") == (
            f"Bearer {expected}"
        )

    def _bad_answer_taker(self, region: str | None) -> Callable[[], bool]:
        """A function that consumes a pending ``bad-answer`` fault, if any.

        Only final answers call it, so the fault waits for the answer turn.
        """
        state = self.server.state

        def take() -> bool:
            with state.lock:
                queue = state.faults.get(region or "", [])
                if queue and queue[0] == "bad-answer":
                    queue.pop(0)
                    return True
                return False

        return take

    def _wait_for_hang_up(self) -> None:
        state = self.server.state
        while not state.stop.is_set():
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                state.disconnects.set()
                return

    def _tavily(self, body: dict[str, Any]) -> None:
        expected = f"Bearer {self.server.state.tavily_key}"
        if self.headers.get("Authorization") != expected:
            self._json(401, {"detail": "bad key"})
            return
        url = f"{self._origin()}/pages/directory?q={quote(str(body.get('query')))}"
        results = [{"title": "Directory", "url": url, "content": "Local managers"}]
        self._json(200, {"results": results})

    def _record(self, path: str, body: dict[str, Any], region: str | None) -> Recorded:
        rec = Recorded(
            path, region, self.headers.get("Authorization"), body, time.time()
        )
        with self.server.state.lock:
            self.server.state.requests.append(rec)
        return rec

    def _origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self.send_response(status)
        self._finish_json(data)

    def _finish_json(self, data: dict[str, Any]) -> None:
        payload = json.dumps(data).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _html(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/html; charset=utf-8")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _region_of(body: dict[str, Any]) -> str | None:
    match = re.search(r"Region: ([^\n\"\\]+)", json.dumps(body))
    return match.group(1).strip() if match else None


def _region_in(query: str) -> str:
    return query[len(QUERY_PREFIX) :] if query.startswith(QUERY_PREFIX) else query


def _asks_json_schema(body: dict[str, Any]) -> bool:
    chat = (body.get("response_format") or {}).get("type")
    responses = ((body.get("text") or {}).get("format") or {}).get("type")
    return "json_schema" in (chat, responses)


def _answer(region: str, seen: str, bad: bool, fenced: bool) -> str:
    """The final lead list: the region's companies that the tools showed."""
    companies = [
        {
            **company,
            "source_url": "https://directory.example/denver",
            "meets_criteria": True,
            "criteria_evidence": "Listed as a manager.",
        }
        for company in region_companies(region)
        if company["name"] in seen
    ]
    answer: dict[str, Any] = {
        "companies": companies,
        "search_exhausted": True,
        "quality_notes": "Fake server answer.",
    }
    if bad:
        del answer["search_exhausted"]
    text = json.dumps(answer)
    return f"Here is the list.\n```json\n{text}\n```" if fenced else text


def _usage_chat() -> dict[str, Any]:
    return {
        "prompt_tokens": USAGE["input"],
        "completion_tokens": USAGE["output"],
        "total_tokens": USAGE["input"] + USAGE["output"],
        "prompt_tokens_details": {"cached_tokens": USAGE["cached"]},
        "completion_tokens_details": {"reasoning_tokens": USAGE["reasoning"]},
    }


def _chat_reply(
    body: dict[str, Any],
    region: str | None,
    rec: Recorded,
    take_bad: Callable[[], bool],
) -> dict[str, Any]:
    messages = body.get("messages", [])
    tool_outputs = [str(m.get("content")) for m in messages if m.get("role") == "tool"]
    names = {t["function"]["name"] for t in body.get("tools", [])}
    region = region or "Nowhere"
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if "web_search" in names and not tool_outputs:
        message["tool_calls"] = [
            _chat_call("web_search", {"query": QUERY_PREFIX + region})
        ]
        rec.answer = "tool:web_search"
    elif "fetch_page" in names and len(tool_outputs) == 1:
        url = _first_url(tool_outputs[0])
        message["tool_calls"] = [_chat_call("fetch_page", {"url": url})]
        rec.answer = "tool:fetch_page"
    else:
        seen = " ".join(tool_outputs) or json.dumps(messages)
        fenced = body.get("response_format") is None
        bad = take_bad()
        message["content"] = _answer(region, seen, bad, fenced)
        rec.answer = "bad-answer" if bad else "answer"
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model"),
        "choices": [{"index": 0, "finish_reason": finish, "message": message}],
        "usage": _usage_chat(),
    }


def _chat_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"call_{time.monotonic_ns()}",
        "type": "function",
        "function": {"name": name, "arguments": json.dumps(arguments)},
    }


def _first_url(search_output: str) -> str:
    try:
        return str(json.loads(search_output)[0]["url"])
    except (ValueError, LookupError, TypeError):
        return "http://unreachable.invalid/"


def _responses_reply(
    body: dict[str, Any],
    region: str | None,
    rec: Recorded,
    take_bad: Callable[[], bool],
) -> dict[str, Any]:
    items = body.get("input") or []
    searched = any(
        isinstance(i, dict) and i.get("type") == "web_search_call" for i in items
    )
    hosted = any(t.get("type") == "web_search" for t in body.get("tools", []))
    region = region or "Nowhere"
    if hosted and not searched:
        output: list[dict[str, Any]] = [
            {
                "type": "web_search_call",
                "id": f"ws_{time.monotonic_ns()}",
                "status": "completed",
                "action": {"type": "search", "query": QUERY_PREFIX + region},
            }
        ]
        rec.answer = "tool:web_search"
    else:
        fenced = ((body.get("text") or {}).get("format") or {}).get("type") is None
        names = " ".join(c["name"] for c in region_companies(region))
        bad = take_bad()
        text = _answer(region, names, bad, fenced)
        output = [
            {
                "type": "message",
                "id": f"msg_{time.monotonic_ns()}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ]
        rec.answer = "bad-answer" if bad else "answer"
    return {
        "id": f"resp_{time.monotonic_ns()}",
        "object": "response",
        "created_at": int(time.time()),
        "model": body.get("model"),
        "status": "completed",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": USAGE["input"],
            "input_tokens_details": {"cached_tokens": USAGE["cached"]},
            "output_tokens": USAGE["output"],
            "output_tokens_details": {"reasoning_tokens": USAGE["reasoning"]},
            "total_tokens": USAGE["input"] + USAGE["output"],
        },
    }


def _results_page(origin: str, query: str) -> str:
    target = f"{origin}/pages/directory?q={quote(query)}"
    wrapped = "//duckduckgo.com/l/?uddg=" + quote(target, safe="") + "&rut=abc"
    return (
        "<html><body>"
        '<div class="result result--ad"><a class="result__a" '
        'href="https://ads.example/">Sponsored</a></div>'
        '<div class="result results_links web-result"><h2 class="result__title">'
        f'<a class="result__a" href="{wrapped}">Property managers <b>directory</b></a>'
        '</h2><a class="result__snippet" href="#">Every local manager.</a></div>'
        "</body></html>"
    )


def _directory_page(region: str) -> str:
    rows = "".join(
        f'<li><a href="{c["website"]}">{c["name"]}</a> {c["phone"]}</li>'
        for c in region_companies(region)
    )
    return (
        "<html><head><title>Managers directory</title>"
        "<style>li { color: red }</style></head><body>"
        "<script>var hidden = 'Secret Script Company';</script>"
        f"<h1>Managers in {region}</h1><ul>{rows}</ul></body></html>"
    )


def web_pool(server: FakeOpenAI, log_file: Path | None = None) -> ExecutorFactory:
    """A process-pool factory whose workers' web tools reach only ``server``.

    The workers' search backends point at the server's fake search pages and
    their address policy allows its loopback port, and nothing else on this
    machine, through the explicit switch the tools offer for tests.
    """

    def make(workers: int) -> Executor:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_web_worker,
            initargs=(server.port, str(log_file) if log_file else None),
        )

    return make


def _init_web_worker(port: int, log_file: str | None) -> None:
    init_worker(log_file, True)

    from leadgen import web_tools
    from leadgen.netguard import AddressPolicy

    web_tools.address_policy = AddressPolicy(loopback_ports=frozenset({port}))
    web_tools.DUCKDUCKGO_URL = f"http://127.0.0.1:{port}/search"
    web_tools.TAVILY_URL = f"http://127.0.0.1:{port}/tavily"

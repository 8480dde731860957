"""Lead lists written as JSON in reply text: tolerant parsing, clear problems."""

from __future__ import annotations

import json

import httpx2
import openai
import pytest

from leadgen.errors import AgentOutputError
from leadgen.json_output import (
    parse_answer,
    rejects_json_schema,
    repair_request,
    reply_instructions,
)

COMPANY = {
    "name": "Harbor Lofts Management",
    "website": "https://harbor-lofts.example",
    "phone": None,
    "street_address": None,
    "city": "Denver",
    "state": "CO",
    "postal_code": None,
    "source_url": "https://directory.example/denver",
    "meets_criteria": True,
    "criteria_evidence": "Manages 120 units.",
}
ANSWER = {"companies": [COMPANY], "search_exhausted": False, "quality_notes": "ok"}
TEXT = json.dumps(ANSWER)


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(TEXT, id="bare"),
        pytest.param(f"```json\n{TEXT}\n```", id="fenced"),
        pytest.param(f"```\n{TEXT}\n```", id="fenced-no-language"),
        pytest.param(f"Here is what I found:\n\n{TEXT}\n\nHope it helps.", id="prose"),
        pytest.param(f"Notes {{draft}} first.\n```json\n{TEXT}\n```", id="braces"),
    ],
)
def test_answer_is_found_in_the_reply(reply: str) -> None:
    answer = parse_answer(reply)

    assert [c.name for c in answer.companies] == ["Harbor Lofts Management"]
    assert answer.search_exhausted is False


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        pytest.param("I found nothing.", "contains no JSON object", id="no-json"),
        pytest.param(
            '{"companies": [{"name": "A"}, ',
            "is not valid JSON",
            id="cut-off",
        ),
        pytest.param(
            json.dumps({"companies": [], "quality_notes": "x"}),
            "search_exhausted: Field required",
            id="missing-field",
        ),
        pytest.param(
            json.dumps({**ANSWER, "companies": [{**COMPANY, "meets_criteria": "?"}]}),
            "companies.0.meets_criteria",
            id="wrong-type",
        ),
    ],
)
def test_invalid_reply_says_what_is_wrong(reply: str, problem: str) -> None:
    with pytest.raises(AgentOutputError, match=problem) as caught:
        parse_answer(reply)

    assert "\n" not in str(caught.value)


def test_repair_request_quotes_the_problem() -> None:
    error = AgentOutputError("the reply does not match the schema: x: Field required")

    message = repair_request(error)

    assert "x: Field required" in message
    assert "only the corrected JSON object" in message


def test_instructions_carry_the_schema() -> None:
    text = reply_instructions()

    schema = json.loads(text.splitlines()[-1])
    assert set(schema["required"]) == {"companies", "search_exhausted", "quality_notes"}


def _bad_request(message: str, status: int = 400) -> openai.APIStatusError:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx2.Response(status, request=request)
    body = {"error": {"message": message}}
    if status == 400:
        return openai.BadRequestError(message, response=response, body=body)
    return openai.UnprocessableEntityError(message, response=response, body=body)


@pytest.mark.parametrize(
    ("error", "refused"),
    [
        pytest.param(
            _bad_request("response_format 'json_schema' is not supported"),
            True,
            id="400-response-format",
        ),
        pytest.param(
            _bad_request("Unknown type json_schema", status=422), True, id="422-schema"
        ),
        pytest.param(_bad_request("temperature is not supported"), False, id="other"),
        pytest.param(ValueError("json_schema"), False, id="not-http"),
    ],
)
def test_schema_refusal_is_recognised(error: Exception, refused: bool) -> None:
    assert rejects_json_schema(error) is refused

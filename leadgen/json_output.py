"""A lead list written as JSON in the reply text, for servers without schemas.

Many OpenAI-compatible servers refuse ``response_format`` of type
``json_schema``. The agent then gets the schema in its instructions instead,
and its reply is parsed here: code fences and prose around the JSON are
tolerated, and the result is validated with pydantic. One repair turn may
send the validation error back; this module writes that message too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from leadgen.errors import AgentOutputError
from leadgen.schema import LeadListOutput

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.DOTALL)
_REJECTION_WORDS = ("response_format", "json_schema", "text.format")
MAX_PROBLEMS = 5


def reply_instructions() -> str:
    """What to add to the instructions when the reply carries the JSON itself."""
    schema = json.dumps(LeadListOutput.model_json_schema(), separators=(",", ":"))
    return "\n".join(
        [
            "Answer format: when you have finished searching, reply with one JSON "
            "object and nothing else, matching this JSON schema. Every field is "
            "required; use null where the schema allows it and a value is unknown.",
            schema,
        ]
    )


def parse_answer(text: str) -> LeadListOutput:
    """Read a lead list out of a reply's text.

    Tries the content of each code fence first, then every ``{`` in the text
    as the start of a JSON object, so a sentence before the JSON is fine.

    Raises:
        AgentOutputError: saying what is wrong, when no JSON object in the
            text is a valid lead list.
    """
    objects, syntax_error = _json_objects(text)
    problems: dict[int, list[str]] = {}
    for index, candidate in enumerate(objects):
        try:
            return LeadListOutput.model_validate(candidate)
        except ValidationError as exc:
            problems[index] = _describe(exc)

    # Report on the object that looks like the answer, not on its fragments.
    shaped = [i for i, value in enumerate(objects) if "companies" in value]
    if shaped:
        reason = "; ".join(problems[shaped[0]])
        raise AgentOutputError(f"the reply does not match the schema: {reason}")
    if syntax_error is not None:
        raise AgentOutputError(f"the reply is not valid JSON ({syntax_error})")
    if objects:
        reason = "; ".join(problems[0])
        raise AgentOutputError(f"the reply does not match the schema: {reason}")
    raise AgentOutputError("the reply contains no JSON object")


def repair_request(error: AgentOutputError) -> str:
    """The message of the one repair turn: what was wrong, and what to send."""
    return (
        f"Your answer could not be used: {error}. Reply again with only the "
        "corrected JSON object, matching the schema in your instructions, and "
        "keep the companies you found. Do not search again."
    )


def rejects_json_schema(exc: BaseException) -> bool:
    """True for a server's refusal of structured output (``json_schema``).

    Such servers answer HTTP 400 (some 422) naming ``response_format`` or
    ``json_schema`` in the error.
    """
    status = getattr(exc, "status_code", None)
    if status not in (400, 422):
        return False
    text = f"{exc} {getattr(exc, 'body', '')}".lower()
    return any(word in text for word in _REJECTION_WORDS)


def _json_objects(text: str) -> tuple[list[Any], str | None]:
    """JSON objects in fences, then in the whole text; and the first syntax error.

    A syntax error counts only when the outermost ``{`` of a piece of text
    does not parse: the objects found inside it then are fragments.
    """
    found: list[Any] = []
    syntax_error: str | None = None
    for chunk in [*_FENCE.findall(text), text]:
        objects, error = _objects_in(chunk)
        found.extend(objects)
        syntax_error = syntax_error or error
    return found, syntax_error


def _objects_in(text: str) -> tuple[list[Any], str | None]:
    decoder = json.JSONDecoder()
    objects: list[Any] = []
    first_error: str | None = None
    position = text.find("{")
    while position != -1:
        try:
            value, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            if not objects and first_error is None:
                first_error = f"{exc.msg} at character {exc.pos}"
            position = text.find("{", position + 1)
            continue
        if isinstance(value, dict):
            objects.append(value)
        position = text.find("{", end)
    return objects, first_error


def _describe(exc: ValidationError) -> list[str]:
    errors = exc.errors(include_url=False)
    described = []
    for error in errors[:MAX_PROBLEMS]:
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        described.append(f"{where}: {error['msg']}")
    if len(errors) > MAX_PROBLEMS:
        described.append(f"and {len(errors) - MAX_PROBLEMS} more")
    return described

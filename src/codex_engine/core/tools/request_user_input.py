"""``request_user_input``: the model asks the user one to three short multiple-choice questions.

Offered as the reference offers it (same parameters). In the default collaboration mode a call
is refused ("unavailable in Default mode") unless feature ``default_mode_request_user_input`` is
on; then the questions go to whoever can answer (the app-server's client, as
``item/tool/requestUserInput``) and the model gets the answers as JSON. ``exec`` has nobody to
ask: as the reference there, the model gets empty answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.toolset import ToolContext
from codex_engine.protocol.items import FunctionCall, FunctionCallOutput

__all__ = [
    "REQUEST_USER_INPUT",
    "RequestUserInputTool",
    "UserInputAsker",
    "request_user_input_spec",
]

log = logging.getLogger(__name__)

REQUEST_USER_INPUT = "request_user_input"
#: Asks the user ``questions`` for call ``call_id``; the client's answer (``{"answers": ...}``),
#: or ``None`` when nobody answered.
UserInputAsker = Callable[[str, list[dict[str, Any]]], Awaitable[dict[str, Any] | None]]

_UNAVAILABLE = f"{REQUEST_USER_INPUT} is unavailable in Default mode"
_NO_ANSWERS: dict[str, Any] = {"answers": {}}


def _string(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def request_user_input_spec() -> dict[str, Any]:
    """The tool as the reference offers it (its parameters; the descriptions are ours)."""
    option = {
        "type": "object",
        "properties": {
            "description": _string("What choosing this option means, in one short sentence."),
            "label": _string("The option as the user sees it (1-5 words)."),
        },
        "required": ["label", "description"],
        "additionalProperties": False,
    }
    question = {
        "type": "object",
        "properties": {
            "header": _string("A short heading for the question (at most 12 characters)."),
            "id": _string("A stable snake_case id; the answers are keyed by it."),
            "options": {
                "type": "array",
                "description": "Two or three choices that exclude each other, the recommended "
                'one first with "(Recommended)" after its label. Leave out an "Other" choice: '
                "the client offers free-form input itself.",
                "items": option,
            },
            "question": _string("The question, in one sentence."),
        },
        "required": ["id", "header", "question", "options"],
        "additionalProperties": False,
    }
    return {
        "type": "function",
        "name": REQUEST_USER_INPUT,
        "description": "Ask the user one to three short questions and wait for the answers. "
        "Only available in Plan mode.",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "questions": {
                    "type": "array",
                    "description": "The questions to ask: preferably one, at most three.",
                    "items": question,
                }
            },
            "required": ["questions"],
            "additionalProperties": False,
        },
    }


def _questions(arguments: str) -> list[dict[str, Any]] | str:
    """The call's questions as the client is shown them, or why they cannot be read."""
    try:
        args = json.loads(arguments or "{}")
    except json.JSONDecodeError as exc:
        return f"failed to parse function arguments: {exc.msg}"
    questions = args.get("questions") if isinstance(args, dict) else None
    if not isinstance(questions, list) or not all(isinstance(q, dict) for q in questions):
        return "failed to parse function arguments: `questions` must be an array of objects"
    shown: list[dict[str, Any]] = []
    for q in questions:
        if not all(isinstance(q.get(key), str) for key in ("id", "header", "question")):
            return "failed to parse function arguments: each question needs id, header, question"
        options = q.get("options")
        shown.append(
            {
                "id": q["id"],
                "header": q["header"],
                "question": q["question"],
                # As the reference: the client may always answer in its own words.
                "isOther": True,
                "isSecret": False,
                "options": options if isinstance(options, list) else None,
            }
        )
    return shown


class RequestUserInputTool:
    """The ``request_user_input`` tool of one session; ``ask`` is who answers (``None``: no
    one can, as in ``exec``)."""

    def __init__(self, ask: UserInputAsker | None, thread_id: str) -> None:
        self.ask = ask
        self.thread_id = thread_id

    async def prepare(self) -> list[str]:
        return []

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        return [request_user_input_spec()]

    def handles(self, name: str) -> bool:
        return name == REQUEST_USER_INPUT

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        def out(text: str) -> FunctionCallOutput:
            return FunctionCallOutput(call_id=call.call_id, output=text)

        if not ctx.settings.default_mode_request_user_input:
            return out(_UNAVAILABLE)
        questions = _questions(call.arguments)
        if isinstance(questions, str):
            return out(questions)
        answer: dict[str, Any] | None = None
        if self.ask is None:
            log.warning(
                "%s is not supported in exec mode for thread `%s`",
                REQUEST_USER_INPUT,
                self.thread_id,
            )
        else:
            answer = await self.ask(call.call_id, questions)
        if not isinstance(answer, dict) or not isinstance(answer.get("answers"), dict):
            answer = _NO_ANSWERS
        return out(json.dumps({"answers": answer["answers"]}, separators=(",", ":")))

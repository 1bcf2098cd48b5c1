"""The built-in model (a deterministic stand-in that echoes, runs commands, summarises output)
and the model catalog `GET /v1/models` serves."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from codex_engine.emulator.script import Reply

__all__ = ["default_models", "scripted_reply"]

JsonDict = dict[str, Any]

_RUN_PATTERNS = (
    re.compile(r"\brun\s+`([^`\n]+)`", re.IGNORECASE),
    re.compile(r"\brun:\s*(\S[^\n]*)", re.IGNORECASE),
    re.compile(r"^\s*\$\s+(\S[^\n]*)", re.MULTILINE),
)
_SUMMARY_LINES = 20


def scripted_reply(body: Mapping[str, Any]) -> Reply:
    """The built-in model's deterministic answer to a request body.

    After a tool result it summarises the output; when the user asks to run a command and a
    command tool is offered (`shell`, `exec_command` or `shell_command`) it calls it; otherwise
    it echoes.
    `generate: false` (a prewarm request) completes with no output.
    """
    if body.get("generate") is False:
        return Reply.empty()
    items = body.get("input")
    items = items if isinstance(items, list) else []
    last = items[-1] if items else None
    if isinstance(last, dict) and last.get("type") in (
        "function_call_output",
        "custom_tool_call_output",
    ):
        output = _output_text(last.get("output"))
        lines = output.splitlines()
        shown = "\n".join(lines[:_SUMMARY_LINES])
        more = "\n…" if len(lines) > _SUMMARY_LINES else ""
        return Reply.text(f"The command finished. Its output was:\n{shown}{more}")
    said = _last_user_text(items)
    command = _requested_command(said)
    tools = _function_tool_names(body.get("tools"))
    if command is not None:
        if "shell" in tools:
            return Reply.function_call("shell", {"command": ["bash", "-lc", command]})
        if "exec_command" in tools:
            return Reply.function_call("exec_command", {"cmd": command})
        if "shell_command" in tools:
            return Reply.function_call("shell_command", {"command": command})
    if said.strip():
        return Reply.text(
            f"Hello from the codex-engine emulator, a scripted stand-in for the model. "
            f"You said: {said.strip()}"
        )
    return Reply.text("Hello from the codex-engine emulator. What would you like to do?")


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        # codex-engine's shell tool answers {"output": ..., "metadata": {...}}; show the output.
        if output.startswith("{"):
            try:
                decoded = json.loads(output)
            except ValueError:
                return output
            if isinstance(decoded, dict) and isinstance(decoded.get("output"), str):
                return str(decoded["output"])
        return output
    if isinstance(output, list):
        return "".join(part.get("text", "") for part in output if isinstance(part, dict))
    if isinstance(output, dict):
        return _output_text(output.get("content"))
    return ""


def _last_user_text(items: Sequence[Any]) -> str:
    for item in reversed(items):
        if not isinstance(item, dict) or item.get("role") != "user":
            continue
        if item.get("type", "message") != "message":
            continue
        content = item.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "\n".join(
                part.get("text", "")
                for part in content
                if isinstance(part, dict) and part.get("type") == "input_text"
            )
    return ""


def _requested_command(text: str) -> str | None:
    for pattern in _RUN_PATTERNS:
        match = pattern.search(text)
        if match:
            return match.group(1).strip()
    return None


def _function_tool_names(tools: Any) -> set[str]:
    if not isinstance(tools, list):
        return set()
    return {
        tool["name"]
        for tool in tools
        if isinstance(tool, dict) and tool.get("type") == "function" and "name" in tool
    }


# --- model catalog ------------------------------------------------------------------------------


def default_models() -> list[JsonDict]:
    """The `models` entries `GET /v1/models` serves (ModelInfo shape, SPEC §10)."""
    levels = [
        {"effort": "low", "description": "Fast answers"},
        {"effort": "medium", "description": "Balanced"},
        {"effort": "high", "description": "Thorough"},
    ]
    common: JsonDict = {
        "default_reasoning_level": "medium",
        "supported_reasoning_levels": levels,
        "shell_type": "default",
        "visibility": "list",
        "supported_in_api": True,
        "base_instructions": "",
        "supports_reasoning_summaries": True,
        "support_verbosity": False,
        "truncation_policy": {"mode": "tokens", "limit": 10000},
        "supports_parallel_tool_calls": True,
        "context_window": 272000,
        "effective_context_window_percent": 95,
        "experimental_supported_tools": [],
        "input_modalities": ["text", "image"],
        "prefer_websockets": False,
    }
    return [
        {
            "slug": "gpt-5.1-codex",
            "display_name": "gpt-5.1-codex",
            "description": "Emulated coding model.",
            "priority": 1,
            **common,
        },
        {
            "slug": "gpt-5.1-codex-mini",
            "display_name": "gpt-5.1-codex-mini",
            "description": "Emulated small coding model.",
            "priority": 2,
            **common,
        },
    ]

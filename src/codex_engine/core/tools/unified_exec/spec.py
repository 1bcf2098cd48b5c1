"""The definitions of ``exec_command`` and ``write_stdin`` as the model is offered them: names,
descriptions and parameter schemas as the reference 0.163 sends them (recorded on the wire)."""

from __future__ import annotations

from typing import Any

__all__ = ["EXEC_COMMAND", "WRITE_STDIN", "exec_command_spec", "write_stdin_spec"]

EXEC_COMMAND = "exec_command"
WRITE_STDIN = "write_stdin"

_TOKENS = "Output token budget. Defaults to 10000 tokens; larger requests may be capped by policy."


def _string(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def _number(description: str) -> dict[str, Any]:
    return {"type": "number", "description": description}


def _boolean(description: str) -> dict[str, Any]:
    return {"type": "boolean", "description": description}


def _function(name: str, description: str, properties: dict[str, Any], required: str) -> Any:
    return {
        "type": "function",
        "name": name,
        "description": description,
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": [required],
            "additionalProperties": False,
        },
    }


def exec_command_spec() -> dict[str, Any]:
    properties = {
        "cmd": _string("Shell command to execute."),
        "justification": _string(
            "User-facing approval question for `require_escalated`; omit otherwise."
        ),
        "login": _boolean(
            "True runs the shell with -l/-i semantics; false disables them. Defaults to true."
        ),
        "max_output_tokens": _number(_TOKENS),
        "prefix_rule": {
            "type": "array",
            "description": (
                'Reusable approval prefix for `cmd`, only with `sandbox_permissions: "require_'
                'escalated"`; for example ["git", "pull"].'
            ),
            "items": {"type": "string"},
        },
        "sandbox_permissions": {
            "type": "string",
            "description": (
                "Per-command sandbox override. Defaults to `use_default`; use "
                "`require_escalated` for unsandboxed execution."
            ),
            "enum": ["use_default", "require_escalated"],
        },
        "shell": _string("Shell binary to launch. Defaults to the user's default shell."),
        "tty": _boolean("True allocates a PTY for the command; false or omitted uses plain pipes."),
        "workdir": _string("Working directory for the command. Defaults to the turn cwd."),
        "yield_time_ms": _number(
            "Wait before yielding output. Defaults to 10000 ms; effective range is 250-30000 ms."
        ),
    }
    description = (
        "Runs a command in a PTY, returning output or a session ID for ongoing interaction."
    )
    result: dict[str, Any] = _function(EXEC_COMMAND, description, properties, "cmd")
    return result


def write_stdin_spec() -> dict[str, Any]:
    properties = {
        "chars": _string(
            "Bytes to write to stdin. Defaults to empty, which polls without writing."
        ),
        "max_output_tokens": _number(_TOKENS),
        "session_id": _number("Identifier of the running unified exec session."),
        "yield_time_ms": _number(
            "Wait before yielding output. Non-empty writes default to 250 ms and cap at 30000 ms; "
            "empty polls wait 5000-300000 ms by default."
        ),
    }
    description = "Writes characters to an existing unified exec session and returns recent output."
    result: dict[str, Any] = _function(WRITE_STDIN, description, properties, "session_id")
    return result

"""The definitions of ``exec_command`` and ``write_stdin`` as the model is offered them: names,
descriptions and parameter schemas as the reference 0.163 sends them (recorded on the wire)."""

from __future__ import annotations

from typing import Any

__all__ = ["EXEC_COMMAND", "WRITE_STDIN", "exec_command_spec", "write_stdin_spec"]

EXEC_COMMAND = "exec_command"
WRITE_STDIN = "write_stdin"


def exec_command_spec() -> dict[str, Any]:
    return {
        "type": "function",
        "name": "exec_command",
        "description": "Runs a command in a PTY, returning output or a session ID for ongoing "
        "interaction.",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "cmd": {"type": "string", "description": "Shell command to execute."},
                "justification": {
                    "type": "string",
                    "description": "User-facing approval "
                    "question for "
                    "`require_escalated`; "
                    "omit otherwise.",
                },
                "login": {
                    "type": "boolean",
                    "description": "True runs the shell with -l/-i "
                    "semantics; false disables them. "
                    "Defaults to true.",
                },
                "max_output_tokens": {
                    "type": "number",
                    "description": "Output token "
                    "budget. Defaults to "
                    "10000 tokens; "
                    "larger requests may "
                    "be capped by "
                    "policy.",
                },
                "prefix_rule": {
                    "type": "array",
                    "description": "Reusable approval prefix "
                    "for `cmd`, only with "
                    "`sandbox_permissions: "
                    '"require_escalated"`; for '
                    'example ["git", "pull"].',
                    "items": {"type": "string"},
                },
                "sandbox_permissions": {
                    "type": "string",
                    "description": "Per-command "
                    "sandbox override. "
                    "Defaults to "
                    "`use_default`; "
                    "use "
                    "`require_escalated` "
                    "for unsandboxed "
                    "execution.",
                    "enum": ["use_default", "require_escalated"],
                },
                "shell": {
                    "type": "string",
                    "description": "Shell binary to launch. Defaults to the user's default shell.",
                },
                "tty": {
                    "type": "boolean",
                    "description": "True allocates a PTY for the "
                    "command; false or omitted uses "
                    "plain pipes.",
                },
                "workdir": {
                    "type": "string",
                    "description": "Working directory for the command. Defaults to the turn cwd.",
                },
                "yield_time_ms": {
                    "type": "number",
                    "description": "Wait before yielding "
                    "output. Defaults to "
                    "10000 ms; effective "
                    "range is 250-30000 "
                    "ms.",
                },
            },
            "required": ["cmd"],
            "additionalProperties": False,
        },
    }


def write_stdin_spec() -> dict[str, Any]:
    return {
        "type": "function",
        "name": "write_stdin",
        "description": "Writes characters to an existing unified exec session and returns "
        "recent output.",
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "chars": {
                    "type": "string",
                    "description": "Bytes to write to stdin. "
                    "Defaults to empty, which polls "
                    "without writing.",
                },
                "max_output_tokens": {
                    "type": "number",
                    "description": "Output token "
                    "budget. Defaults to "
                    "10000 tokens; "
                    "larger requests may "
                    "be capped by "
                    "policy.",
                },
                "session_id": {
                    "type": "number",
                    "description": "Identifier of the running unified exec session.",
                },
                "yield_time_ms": {
                    "type": "number",
                    "description": "Wait before yielding "
                    "output. Non-empty "
                    "writes default to 250 "
                    "ms and cap at 30000 ms; "
                    "empty polls wait "
                    "5000-300000 ms by "
                    "default.",
                },
            },
            "required": ["session_id"],
            "additionalProperties": False,
        },
    }

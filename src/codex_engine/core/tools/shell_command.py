"""The ``shell_command`` tool: one command string that the user's shell runs. It is offered
instead of ``exec_command`` when feature ``unified_exec`` is off and the model's catalog entry
asks for it; approval, sandbox, apply_patch interception and events are the ``shell`` tool's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.shell import DEFAULT_TIMEOUT_S, ShellCall
from codex_engine.core.tools.shell_call import ShellTool

__all__ = ["SHELL_COMMAND_TOOL_NAME", "ShellCommandTool", "shell_command_spec", "user_shell"]

SHELL_COMMAND_TOOL_NAME = "shell_command"


def shell_command_spec() -> dict[str, Any]:
    """The definition the model is offered: a script string, where, how long, login or not."""
    return {
        "type": "function",
        "name": SHELL_COMMAND_TOOL_NAME,
        "description": (
            "Runs a command string with the user's default shell and returns its output and "
            "exit code. Set `workdir` rather than starting the command with `cd`."
        ),
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "command": {
                    "type": "string",
                    "description": "The script for the user's default shell to run.",
                },
                "login": {
                    "type": "boolean",
                    "description": "Run the shell as a login shell (-l). Defaults to true.",
                },
                "timeout_ms": {
                    "type": "number",
                    "description": "Time limit in milliseconds.",
                },
                "workdir": {
                    "type": "string",
                    "description": "Directory to run in; defaults to the session's directory.",
                },
            },
            "required": ["command"],
            "additionalProperties": False,
        },
    }


def user_shell(settings: SessionSettings) -> str:
    """The shell that runs command strings: ``$SHELL`` of the command environment, else bash."""
    env = settings.shell_env if settings.shell_env is not None else os.environ
    return env.get("SHELL") or "/bin/bash"


def parse_shell_command_arguments(arguments: str, settings: SessionSettings) -> ShellCall:
    """The call's JSON arguments as the argv the user's shell runs; ``ValueError`` naming what
    is wrong, for the model."""
    try:
        raw: Any = json.loads(arguments) if arguments.strip() else {}
    except ValueError as exc:
        raise ValueError(f"arguments are not valid JSON: {exc}") from None
    if not isinstance(raw, Mapping):
        raise ValueError("arguments must be a JSON object with a `command` string")
    command = raw.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ValueError("`command` must be a non-empty string")
    workdir = raw.get("workdir")
    path = settings.cwd / workdir if isinstance(workdir, str) and workdir else settings.cwd
    timeout_ms = raw.get("timeout_ms")
    timeout = (
        float(timeout_ms) / 1000
        if isinstance(timeout_ms, int | float)
        and not isinstance(timeout_ms, bool)
        and timeout_ms > 0
        else DEFAULT_TIMEOUT_S
    )
    flag = "-c" if raw.get("login") is False else "-lc"
    return ShellCall([user_shell(settings), flag, command], path.resolve(), timeout)


class ShellCommandTool(ShellTool):
    """``shell_command``: the ``shell`` toolset with a command string instead of an argv."""

    name = SHELL_COMMAND_TOOL_NAME

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        return [shell_command_spec()]

    def parse(self, arguments: str, settings: SessionSettings) -> ShellCall:
        return parse_shell_command_arguments(arguments, settings)

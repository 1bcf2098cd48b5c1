"""The session prefix the model sees first: the environment it works in."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import msgspec

from codex_engine.core.xml_escape import escape
from codex_engine.protocol.items import ContentPart, Message

__all__ = ["EnvironmentContext", "developer_message"]


def _timezone_name() -> str:
    tz = os.environ.get("TZ")
    if tz:
        return tz
    try:
        link = os.readlink("/etc/localtime")
    except OSError:
        return datetime.now().astimezone().tzname() or "UTC"
    marker = "zoneinfo/"
    return link.split(marker, 1)[1] if marker in link else link


class EnvironmentContext(msgspec.Struct, frozen=True):
    cwd: Path
    shell: str
    current_date: str
    timezone: str
    approval_policy: str
    sandbox_mode: str

    @classmethod
    def capture(cls, cwd: Path, *, approval_policy: str, sandbox_mode: str) -> EnvironmentContext:
        shell = Path(os.environ.get("SHELL", "/bin/bash")).name or "bash"
        return cls(
            cwd=cwd,
            shell=shell,
            current_date=datetime.now().astimezone().date().isoformat(),
            timezone=_timezone_name(),
            approval_policy=approval_policy,
            sandbox_mode=sandbox_mode,
        )

    def to_message(self) -> Message:
        body = (
            "<environment_context>\n"
            f"  <cwd>{escape(str(self.cwd))}</cwd>\n"
            f"  <shell>{escape(self.shell)}</shell>\n"
            f"  <current_date>{self.current_date}</current_date>\n"
            f"  <timezone>{escape(self.timezone)}</timezone>\n"
            f"  <approval_policy>{self.approval_policy}</approval_policy>\n"
            f"  <sandbox_mode>{self.sandbox_mode}</sandbox_mode>\n"
            "</environment_context>"
        )
        return Message(role="user", content=[ContentPart(type="input_text", text=body)])


def developer_message(text: str) -> Message:
    return Message(role="developer", content=[ContentPart(type="input_text", text=text)])

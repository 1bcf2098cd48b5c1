"""Secret canaries: values a test hands to the engine as credentials, which no log may show.

Every test gets a :class:`CanaryRegistry` (the autouse ``secret_canaries`` fixture in
conftest). Credentials are registered automatically where the shared helpers take them (the
bearer of ``make_client``, credential-named variables given to ``run_cli``) and explicitly with
``secret_canaries.add(...)``. When the test ends, every log record it produced (pytest captures
them at DEBUG, see ``log_level`` in pyproject.toml) and the stderr of every CLI it ran through
``run_cli`` are searched for each canary; a hit fails the test, naming where it leaked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from codex_engine.protocol.redaction import MIN_SECRET_CHARS

__all__ = ["CanaryRegistry", "activate", "current", "register_env", "watch"]


@dataclass
class CanaryRegistry:
    values: set[str] = field(default_factory=set)
    #: Output of processes the test ran, by label (e.g. "codex-engine exec stderr").
    outputs: list[tuple[str, str]] = field(default_factory=list)

    def add(self, *values: str | None) -> None:
        """Register values that must never appear in a log (short ones are too ambiguous)."""
        self.values.update(v for v in values if v and len(v) >= MIN_SECRET_CHARS)

    def leaks(self, records: Iterable[logging.LogRecord]) -> list[str]:
        """Where a canary showed up: ``"<canary prefix>… in <place>"`` for each hit."""
        places: list[tuple[str, str]] = list(self.outputs)
        for record in records:
            text = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                text += f"\n{record.exc_info[1]!r}"
            places.append((f"log record {record.name}:{record.levelname}", text))
        return [
            f"{value[:6]}… in {label}"
            for value in sorted(self.values)
            for label, text in places
            if value in text
        ]


_current: CanaryRegistry | None = None


def current() -> CanaryRegistry | None:
    return _current


def activate(registry: CanaryRegistry | None) -> None:
    global _current
    _current = registry


_CREDENTIAL_SUFFIXES = ("KEY", "TOKEN", "SECRET", "PASSWORD")


def register_env(env: Mapping[str, str]) -> None:
    """Register the values of credential variables (``*_API_KEY``, ``*_TOKEN`` ...)."""
    if _current is not None:
        _current.add(
            *(value for name, value in env.items() if name.upper().endswith(_CREDENTIAL_SUFFIXES))
        )


def watch(label: str, text: str) -> None:
    """Add a process's output to what the end-of-test scan searches."""
    if _current is not None:
        _current.outputs.append((label, text))

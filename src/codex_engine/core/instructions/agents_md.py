"""AGENTS.md discovery: the user's ``$CODEX_HOME/AGENTS.md``, then the project's files from the
repository root down to the working directory, joined as the reference joins them and wrapped
into the text the model receives at the start of a session (:func:`agents_md_instructions`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "AGENTS_MD",
    "AGENTS_MD_PREFIX",
    "AGENTS_OVERRIDE_MD",
    "agents_md_instructions",
    "project_doc_paths",
    "read_project_docs",
    "user_instructions",
    "wrap_agents_md",
]

AGENTS_MD = "AGENTS.md"
#: Takes the place of ``AGENTS.md`` in the directory that has it.
AGENTS_OVERRIDE_MD = "AGENTS.override.md"
#: How the injected text starts; it marks the message as context, not a user's turn.
AGENTS_MD_PREFIX = "# AGENTS.md instructions for "
#: Between the user's own instructions and the project's.
_PROJECT_DOC_SEPARATOR = "\n\n--- project-doc ---\n\n"


def _candidates(fallbacks: Sequence[str]) -> list[str]:
    names = [AGENTS_OVERRIDE_MD, AGENTS_MD]
    names += [name for name in dict.fromkeys(fallbacks) if name and name not in names]
    return names


def _repository_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():  # a directory, or a worktree's gitfile
            return directory
    return None


def project_doc_paths(cwd: Path, fallbacks: Sequence[str] = ()) -> list[Path]:
    """The project's instruction files, repository root first, down to ``cwd`` (only ``cwd``
    outside a repository): in each directory the first of ``AGENTS.override.md``,
    ``AGENTS.md`` and the fallback names that exists."""
    cwd = cwd.resolve()
    root = _repository_root(cwd)
    if root is None:
        directories = [cwd]
    else:
        below = [cwd, *cwd.parents]
        directories = list(reversed(below[: below.index(root) + 1]))
    names = _candidates(fallbacks)
    found: list[Path] = []
    for directory in directories:
        for name in names:
            candidate = directory / name
            if candidate.is_file() or candidate.is_symlink():
                found.append(candidate)
                break
    return found


def read_project_docs(cwd: Path, max_bytes: int, fallbacks: Sequence[str] = ()) -> str | None:
    """The project's instruction files joined by blank lines, at most ``max_bytes`` in all (the
    file that crosses the limit is cut); ``None`` when there are none or the limit is 0."""
    if max_bytes <= 0:
        return None
    remaining = max_bytes
    parts: list[str] = []
    for path in project_doc_paths(cwd, fallbacks):
        if remaining <= 0:
            break
        try:
            with path.open("rb") as doc:
                data = doc.read(remaining)
        except FileNotFoundError:  # a dangling symlink
            continue
        text = data.decode("utf-8", errors="replace")
        if text.strip():
            parts.append(text)
            remaining -= len(data)
    return "\n\n".join(parts) if parts else None


def user_instructions(codex_home: Path) -> str | None:
    """The user's own instructions for every project: ``$CODEX_HOME/AGENTS.override.md`` or
    else ``$CODEX_HOME/AGENTS.md``, trimmed; ``None`` when neither has text."""
    for name in (AGENTS_OVERRIDE_MD, AGENTS_MD):
        try:
            text = (codex_home / name).read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            continue
        if text:
            return text
    return None


def wrap_agents_md(cwd: Path, text: str) -> str:
    """The instructions as the model receives them: headed with the directory they apply to."""
    return f"{AGENTS_MD_PREFIX}{cwd}\n\n<INSTRUCTIONS>\n{text}\n</INSTRUCTIONS>"


def agents_md_instructions(
    codex_home: Path, cwd: Path, *, max_bytes: int, fallbacks: Sequence[str] = ()
) -> str | None:
    """The user's and the project's instructions in the order the model reads them, wrapped;
    ``None`` when there are none."""
    own = user_instructions(codex_home)
    project = read_project_docs(cwd, max_bytes, fallbacks)
    if own is None and project is None:
        return None
    text = _PROJECT_DOC_SEPARATOR.join(part for part in (own, project) if part is not None)
    return wrap_agents_md(cwd, text)

"""``apply_patch``: verify a patch against the files, check it writes only where the sandbox
policy allows (else ask), then write each file atomically and report the changes.

Reached as a function or custom (freeform) tool named ``apply_patch`` (:class:`ApplyPatchTool`,
per the catalog's ``apply_patch_tool_type``) and from the shell tool when its command is an
``apply_patch`` invocation (:func:`run_apply_patch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import msgspec

from codex_engine.core.approvals import ApprovalRequest, automatic_decision
from codex_engine.core.events import FileChange, PatchFinished, PatchStarted
from codex_engine.core.sandbox import sandbox_writable_roots
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.apply_patch_freeform import apply_patch_freeform_spec
from codex_engine.core.tools.toolset import ToolContext
from codex_engine.errors import PatchError
from codex_engine.protocol.items import (
    CustomToolCall,
    CustomToolCallOutput,
    FunctionCall,
    FunctionCallOutput,
)
from codex_engine.protocol.patch import (
    AddFile,
    DeleteFile,
    FileOperation,
    UpdateFile,
    apply_chunks,
    parse_patch,
    unified_diff,
)

__all__ = [
    "APPLY_PATCH_TOOL_NAME",
    "ApplyPatchTool",
    "apply_patch_function_spec",
    "outside_writable_roots",
    "run_apply_patch",
]

APPLY_PATCH_TOOL_NAME = "apply_patch"


class _Write(msgspec.Struct, frozen=True):
    """One file's outcome: ``content`` written to ``path`` (``None``: delete ``path``)."""

    path: Path
    content: str | None


class _Plan(msgspec.Struct, frozen=True):
    writes: tuple[_Write, ...]
    changes: tuple[FileChange, ...]
    summary: str


def _read(path: Path, why: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PatchError(f"cannot {why} {path}: the file does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PatchError(f"cannot {why} {path}: {exc}") from None


def _plan(operations: Sequence[FileOperation], cwd: Path) -> _Plan:
    """Every write the patch makes, computed from the files as they are now (nothing written);
    :class:`PatchError` when the patch is empty or a file does not match it."""
    if not operations:
        raise PatchError("the patch changes no files; add at least one file operation")
    # Files edited earlier in the same patch are read as the patch left them.
    pending: dict[Path, str | None] = {}
    writes: list[_Write] = []
    changes: list[FileChange] = []
    added: list[str] = []
    modified: list[str] = []
    deleted: list[str] = []

    def current(path: Path, why: str) -> str:
        if path in pending:
            text = pending[path]
            if text is None:
                raise PatchError(f"cannot {why} {path}: the patch deleted it earlier")
            return text
        return _read(path, why)

    for op in operations:
        path = cwd / op.path
        match op:
            case AddFile(contents=contents):
                writes.append(_Write(path, contents))
                pending[path] = contents
                changes.append(FileChange(str(path), "add", contents))
                added.append(op.path)
            case DeleteFile():
                old = current(path, "delete")
                writes.append(_Write(path, None))
                pending[path] = None
                changes.append(FileChange(str(path), "delete", old))
                deleted.append(op.path)
            case UpdateFile(chunks=chunks, move_to=move_to):
                old = current(path, "update")
                new = apply_chunks(old, chunks, op.path)
                diff = unified_diff(old, new)
                if move_to is None:
                    writes.append(_Write(path, new))
                    pending[path] = new
                    changes.append(FileChange(str(path), "update", diff))
                    modified.append(op.path)
                else:
                    dest = cwd / move_to
                    writes.extend((_Write(dest, new), _Write(path, None)))
                    pending[dest], pending[path] = new, None
                    changes.append(FileChange(str(path), "update", diff, str(dest)))
                    modified.append(move_to)
    lines = ["Success. Updated the following files:"]
    lines += [f"A {p}" for p in added] + [f"M {p}" for p in modified]
    lines += [f"D {p}" for p in deleted]
    return _Plan(tuple(writes), tuple(changes), "\n".join(lines) + "\n")


def _write_atomically(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(content)
        with contextlib.suppress(OSError):
            os.chmod(tmp, path.stat().st_mode & 0o7777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _carry_out(writes: Sequence[_Write]) -> None:
    for write in writes:
        if write.content is None:
            write.path.unlink()
        else:
            _write_atomically(write.path, write.content)


def outside_writable_roots(paths: Sequence[Path], settings: SessionSettings) -> list[Path]:
    """The paths the sandbox policy does not let the model write on its own."""
    if settings.sandbox_mode == "danger-full-access":
        return []
    if settings.sandbox_mode == "read-only":
        return list(paths)
    roots = sandbox_writable_roots(settings.cwd)
    return [p for p in paths if not any(p.resolve().is_relative_to(r) for r in roots)]


async def _refusal(call_id: str, paths: Sequence[Path], cwd: Path, ctx: ToolContext) -> str | None:
    """Why the patch may not be written, or ``None`` when it may."""
    settings = ctx.settings
    policy = settings.approval_policy
    outside = outside_writable_roots(paths, settings)
    if not outside and policy != "untrusted":
        return None
    if outside:
        shown = ", ".join(str(p) for p in outside[:3]) + (" …" if len(outside) > 3 else "")
        reason = (
            f"the patch writes outside the writable roots of sandbox mode "
            f"{settings.sandbox_mode!r}: {shown}"
        )
    else:
        reason = "approval policy 'untrusted' asks before every patch"
    if policy != "never":
        auto = automatic_decision(
            ctx.approvals_reviewer, sandboxed=not outside, sandbox_mode=settings.sandbox_mode
        )
        if auto is not None:
            return None if auto.approved else auto.reason
    if ctx.approver is None or policy == "never":
        return (
            f"{reason}, and no approval can be given here (approval policy {policy!r}); "
            "write inside the workspace, or run with --sandbox workspace-write or "
            "--sandbox danger-full-access"
        )
    request = ApprovalRequest(
        call_id,
        ["apply_patch", *(str(p) for p in paths)],
        cwd,
        reason,
        sandboxed=False,
        sandbox_mode=settings.sandbox_mode,
        kind="file_change",
    )
    return None if await ctx.approver(request) else "the user declined this patch"


async def run_apply_patch(call_id: str, patch: str, cwd: Path, ctx: ToolContext) -> str:
    """Apply ``patch`` (paths relative to ``cwd``); what the model is told of the outcome."""
    try:
        operations = parse_patch(patch)
        plan = await asyncio.to_thread(_plan, operations, cwd)
    except PatchError as exc:
        # Nothing was written; the model gets the reason and retries with a better patch.
        ctx.metrics.tool_call(APPLY_PATCH_TOOL_NAME, False, 0.0)
        return f"apply_patch verification failed: {exc}"
    paths = list(dict.fromkeys(write.path for write in plan.writes))
    refusal = await _refusal(call_id, paths, cwd, ctx)
    if refusal is not None:
        output = f"patch not applied: {refusal}"
        ctx.emit(PatchFinished(call_id, plan.changes, "declined", output))
        return output
    ctx.emit(PatchStarted(call_id, plan.changes))
    try:
        await asyncio.to_thread(_carry_out, plan.writes)
    except OSError as exc:
        output = f"apply_patch failed while writing: {exc}"
        ctx.metrics.tool_call(APPLY_PATCH_TOOL_NAME, False, 0.0)
        ctx.emit(PatchFinished(call_id, plan.changes, "failed", output))
        return output
    ctx.metrics.tool_call(APPLY_PATCH_TOOL_NAME, True, 0.0)
    ctx.emit(PatchFinished(call_id, plan.changes, "completed", plan.summary))
    return plan.summary


_FUNCTION_DESCRIPTION = (
    "Edit files with a patch. The input is the whole patch: '*** Begin Patch', then one or "
    "more file sections, then '*** End Patch'. A section is '*** Add File: PATH' followed by "
    "the new file's lines, each starting with '+'; '*** Delete File: PATH'; or '*** Update "
    "File: PATH', optionally followed by '*** Move to: NEW_PATH', then changes that each start "
    "with '@@' (optionally followed by a line that locates the change, such as a function's "
    "signature) and list lines starting with ' ' (kept), '-' (removed) or '+' (added), with "
    "about three kept lines around each change. '*** End of File' after a change anchors it at "
    "the end of the file. Paths are relative to the working directory."
)


def apply_patch_function_spec() -> dict[str, object]:
    """``apply_patch`` as a function tool taking the patch as ``input``."""
    return {
        "type": "function",
        "name": APPLY_PATCH_TOOL_NAME,
        "description": _FUNCTION_DESCRIPTION,
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "input": {"type": "string", "description": "The entire patch to apply."}
            },
            "required": ["input"],
            "additionalProperties": False,
        },
    }


class ApplyPatchTool:
    """``apply_patch`` as the catalog says a model gets it: a function (``{"input": PATCH}``)
    for ``apply_patch_tool_type = "function"``, a custom tool whose input is the patch itself
    for ``"freeform"``, none otherwise. Calls of either kind are carried out whichever model
    makes them."""

    async def prepare(self) -> list[str]:
        return []  # nothing to start

    def specs(self, settings: SessionSettings) -> list[dict[str, object]]:
        kind = settings.model_info.apply_patch_tool_type
        if kind == "function":
            return [apply_patch_function_spec()]
        if kind == "freeform":
            return [apply_patch_freeform_spec()]
        return []

    def handles(self, name: str) -> bool:
        return name == APPLY_PATCH_TOOL_NAME

    async def call(self, call: FunctionCall, ctx: ToolContext) -> FunctionCallOutput:
        try:
            arguments = json.loads(call.arguments)
            patch = arguments["input"]
            if not isinstance(patch, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return FunctionCallOutput(
                call_id=call.call_id,
                output='invalid arguments: expected {"input": "*** Begin Patch\\n…"}',
            )
        output = await run_apply_patch(call.call_id, patch, ctx.settings.cwd, ctx)
        return FunctionCallOutput(call_id=call.call_id, output=output)

    async def call_custom(self, call: CustomToolCall, ctx: ToolContext) -> CustomToolCallOutput:
        output = await run_apply_patch(call.call_id, call.input, ctx.settings.cwd, ctx)
        return CustomToolCallOutput(call_id=call.call_id, output=output)

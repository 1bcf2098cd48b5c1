"""The ``apply_patch`` grammar: patch text to file operations (:func:`parse_patch`), back to text
(:func:`render_patch`), and an update's chunks applied to a file's text (:func:`apply_chunks`).

Pure: no I/O. Parsing is as lenient as the reference's (padded markers, a heredoc wrapper,
blank lines between chunks); locating a chunk tolerates whitespace and typographic punctuation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import msgspec

from codex_engine.errors import PatchError

__all__ = [
    "AddFile",
    "DeleteFile",
    "FileOperation",
    "UpdateChunk",
    "UpdateFile",
    "apply_chunks",
    "parse_patch",
    "render_patch",
    "unified_diff",
]

BEGIN = "*** Begin Patch"
END = "*** End Patch"
ADD = "*** Add File: "
DELETE = "*** Delete File: "
UPDATE = "*** Update File: "
MOVE_TO = "*** Move to: "
END_OF_FILE = "*** End of File"
_CONTEXT = "@@ "
_BARE_CONTEXT = "@@"
_HEREDOC_OPENERS = ("<<EOF", "<<'EOF'", '<<"EOF"')


class AddFile(msgspec.Struct, frozen=True):
    """Create ``path`` with ``contents`` (each line ends in a newline)."""

    path: str
    contents: str


class DeleteFile(msgspec.Struct, frozen=True):
    path: str


class UpdateChunk(msgspec.Struct, frozen=True):
    """Replace ``old_lines`` by ``new_lines``, found after the line ``context`` (when given) and
    after the previous chunk; at the end of the file when ``end_of_file``."""

    context: str | None
    old_lines: tuple[str, ...]
    new_lines: tuple[str, ...]
    end_of_file: bool = False


class UpdateFile(msgspec.Struct, frozen=True):
    """Edit ``path`` chunk by chunk, then (when ``move_to`` is given) write it there instead."""

    path: str
    chunks: tuple[UpdateChunk, ...]
    move_to: str | None = None


FileOperation = AddFile | DeleteFile | UpdateFile


def _lines(text: str) -> list[str]:
    # Like Rust's str::lines: split on \n only and drop a \r before it (splitlines() would also
    # split on form feeds and Unicode separators, which may appear inside a line of code).
    if not text:
        return []
    return [line.removesuffix("\r") for line in text.removesuffix("\n").split("\n")]


def _body(lines: list[str]) -> list[str]:
    """The lines between the begin and end markers, or the error naming the missing marker."""

    def strict(candidate: list[str]) -> list[str] | str:
        first = candidate[0].strip() if candidate else None
        last = candidate[-1].strip() if candidate else None
        if first == BEGIN and last == END and len(candidate) >= 2:
            return candidate[1:-1]
        if first != BEGIN:
            return f"the first line of the patch must be '{BEGIN}'"
        return f"the last line of the patch must be '{END}'"

    found = strict(lines)
    if isinstance(found, list):
        return found
    # A heredoc wrapper passed as an argument instead of through a shell: strip it.
    if len(lines) >= 4 and lines[0] in _HEREDOC_OPENERS and lines[-1].endswith("EOF"):
        inner = strict(lines[1:-1])
        if isinstance(inner, list):
            return inner
        raise PatchError(f"invalid patch: {inner}")
    raise PatchError(f"invalid patch: {found}")


def parse_patch(text: str) -> list[FileOperation]:
    """The file operations of a patch, in order; :class:`PatchError` says what is wrong."""
    body = _body(_lines(text.strip()))
    operations: list[FileOperation] = []
    index = 0
    while index < len(body):
        operation, used = _parse_operation(body, index)
        operations.append(operation)
        index += used
    return operations


def _hunk_error(line_number: int, message: str) -> PatchError:
    return PatchError(f"invalid patch at line {line_number}: {message}")


def _parse_operation(body: list[str], start: int) -> tuple[FileOperation, int]:
    """One file operation at ``body[start]`` and how many lines it took."""
    line_number = start + 2  # 1-based, after the begin marker
    header = body[start].strip()
    if header.startswith(ADD):
        contents: list[str] = []
        for line in body[start + 1 :]:
            if not line.startswith("+"):
                break
            contents.append(line[1:] + "\n")
        return AddFile(header.removeprefix(ADD), "".join(contents)), 1 + len(contents)
    if header.startswith(DELETE):
        return DeleteFile(header.removeprefix(DELETE)), 1
    if not header.startswith(UPDATE):
        raise _hunk_error(
            line_number,
            f"'{header}' is not a valid file header; use '{ADD}PATH', '{DELETE}PATH' or "
            f"'{UPDATE}PATH'",
        )
    path = header.removeprefix(UPDATE)
    index = start + 1
    move_to = None
    if index < len(body) and body[index].startswith(MOVE_TO):
        move_to = body[index].removeprefix(MOVE_TO)
        index += 1
    chunks: list[UpdateChunk] = []
    while index < len(body):
        line = body[index]
        if not line.strip():  # blank lines may separate chunks
            index += 1
            continue
        if line.startswith("*"):
            break
        chunk, used = _parse_chunk(body, index, first=not chunks)
        chunks.append(chunk)
        index += used
    if not chunks:
        raise _hunk_error(line_number, f"the update of '{path}' has no changes")
    return UpdateFile(path, tuple(chunks), move_to), index - start


def _parse_chunk(body: list[str], start: int, *, first: bool) -> tuple[UpdateChunk, int]:
    line_number = start + 2
    context: str | None = None
    index = start
    if body[index] == _BARE_CONTEXT:
        index += 1
    elif body[index].startswith(_CONTEXT):
        context = body[index].removeprefix(_CONTEXT)
        index += 1
    elif not first:
        raise _hunk_error(
            line_number, f"expected a change to start with an '@@' line, got: '{body[index]}'"
        )
    old: list[str] = []
    new: list[str] = []
    end_of_file = False
    taken = 0
    for line in body[index:]:
        if line == END_OF_FILE:
            if taken == 0:
                break
            end_of_file = True
            taken += 1
            break
        kind, text = line[:1], line[1:]
        if kind == "":  # an empty line is an empty context line
            old.append("")
            new.append("")
        elif kind == " ":
            old.append(text)
            new.append(text)
        elif kind == "-":
            old.append(text)
        elif kind == "+":
            new.append(text)
        elif taken == 0:
            raise _hunk_error(
                line_number + index - start,
                f"unexpected line in a change: '{line}'; every line starts with ' ' (context), "
                "'+' (added) or '-' (removed)",
            )
        else:
            break  # the next chunk or file starts here
        taken += 1
    if taken == 0:
        raise _hunk_error(line_number + index - start, "a change has no lines")
    return UpdateChunk(context, tuple(old), tuple(new), end_of_file), index - start + taken


def render_patch(operations: Sequence[FileOperation]) -> str:
    """Patch text that :func:`parse_patch` reads back as ``operations``.

    An update chunk is written as its old lines removed then its new lines added; add-file
    contents must be whole lines (each ending in a newline).
    """
    out = [BEGIN]
    for operation in operations:
        match operation:
            case AddFile(path=path, contents=contents):
                out.append(ADD + path)
                out.extend("+" + line for line in _lines(contents))
            case DeleteFile(path=path):
                out.append(DELETE + path)
            case UpdateFile(path=path, chunks=chunks, move_to=move_to):
                out.append(UPDATE + path)
                if move_to is not None:
                    out.append(MOVE_TO + move_to)
                for chunk in chunks:
                    out.append(_BARE_CONTEXT if chunk.context is None else _CONTEXT + chunk.context)
                    out.extend("-" + line for line in chunk.old_lines)
                    out.extend("+" + line for line in chunk.new_lines)
                    if chunk.end_of_file:
                        out.append(END_OF_FILE)
    out.append(END)
    return "\n".join(out) + "\n"


_PUNCTUATION = str.maketrans(
    {
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\u2018\u2019\u201a\u201b", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f", '"'),
        **dict.fromkeys(
            "\u00a0\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "
        ),
    }
)

#: From strict to loose: each pass is tried over the whole file before the next.
_PASSES: tuple[Callable[[str], str], ...] = (
    lambda s: s,
    str.rstrip,
    str.strip,
    lambda s: s.strip().translate(_PUNCTUATION),
)


def _seek(lines: Sequence[str], pattern: Sequence[str], start: int, *, eof: bool) -> int | None:
    """Where ``pattern`` occurs in ``lines`` at or after ``start`` (at the very end if ``eof``)."""
    if not pattern:
        return start
    if len(pattern) > len(lines):
        return None
    first = len(lines) - len(pattern) if eof else start
    for norm in _PASSES:
        wanted = [norm(p) for p in pattern]
        for at in range(first, len(lines) - len(pattern) + 1):
            if all(norm(lines[at + k]) == wanted[k] for k in range(len(pattern))):
                return at
    return None


def apply_chunks(original: str, chunks: Sequence[UpdateChunk], path: str) -> str:
    """``original`` with ``chunks`` applied; :class:`PatchError` when one does not match.

    The result ends with a newline, as the reference writes it.
    """
    lines = original.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    replacements: list[tuple[int, int, list[str]]] = []
    index = 0
    for chunk in chunks:
        if chunk.context is not None:
            found = _seek(lines, [chunk.context], index, eof=False)
            if found is None:
                raise PatchError(
                    f"failed to find the context line '{chunk.context}' in {path}; read the "
                    "file again and base the patch on its current text"
                )
            index = found + 1
        if not chunk.old_lines:
            # Nothing to replace: the new lines go at the end (before a final blank line).
            end = len(lines) - 1 if lines and lines[-1] == "" else len(lines)
            replacements.append((end, 0, list(chunk.new_lines)))
            continue
        old, new = list(chunk.old_lines), list(chunk.new_lines)
        at = _seek(lines, old, index, eof=chunk.end_of_file)
        if at is None and old[-1] == "":
            # A trailing empty line stands for the file's final newline, which split() dropped.
            old = old[:-1]
            if new and new[-1] == "":
                new = new[:-1]
            at = _seek(lines, old, index, eof=chunk.end_of_file)
        if at is None:
            expected = "\n".join(chunk.old_lines)
            raise PatchError(
                f"failed to find the expected lines in {path}:\n{expected}\nread the file "
                "again and base the patch on its current text"
            )
        replacements.append((at, len(old), new))
        index = at + len(old)
    for at, length, new in sorted(replacements, key=lambda r: r[0], reverse=True):
        lines[at : at + length] = new
    if not lines or lines[-1] != "":
        lines.append("")
    return "\n".join(lines)


def unified_diff(old: str, new: str, *, context: int = 1) -> str:
    """The hunks (``@@ … @@`` and their lines, no file header) that turn ``old`` into ``new``."""
    import difflib  # here: only a turn that edits files needs it (it is off the exec start-up path)

    diff = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), n=context, lineterm="\n"
    )
    lines = [line if line.endswith("\n") else line + "\n" for line in diff]
    return "".join(lines[2:])

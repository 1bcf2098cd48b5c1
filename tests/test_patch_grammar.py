"""The apply_patch grammar (protocol/patch.py): text <-> file operations, and updates applied to
a file's text, including the reference's tolerance of whitespace and typographic punctuation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_engine.core.tools.patch_invocation import PatchInvocation, patch_invocation
from codex_engine.errors import PatchError
from codex_engine.protocol.patch import (
    AddFile,
    DeleteFile,
    FileOperation,
    UpdateChunk,
    UpdateFile,
    apply_chunks,
    parse_patch,
    render_patch,
    unified_diff,
)

# Text of one line: no newline or carriage return (the grammar is line based).
_line = st.text(
    st.characters(blacklist_characters="\n\r", blacklist_categories=["Cs"]), max_size=12
)
_path = st.from_regex(r"[a-z][a-z0-9_/.-]{0,15}", fullmatch=True).filter(lambda p: p == p.strip())
_lines = st.lists(_line, max_size=4)
_context = st.none() | _line.filter(lambda s: s == s.strip() and bool(s))


@st.composite
def _chunk(draw: st.DrawFn) -> UpdateChunk:
    old = draw(_lines)
    new = draw(_lines if old else st.lists(_line, min_size=1, max_size=4))
    return UpdateChunk(draw(_context), tuple(old), tuple(new), draw(st.booleans()))


_operation: st.SearchStrategy[FileOperation] = st.one_of(
    st.builds(AddFile, _path, _lines.map(lambda ls: "".join(line + "\n" for line in ls))),
    st.builds(DeleteFile, _path),
    st.builds(
        UpdateFile, _path, st.lists(_chunk(), min_size=1, max_size=3).map(tuple), st.none() | _path
    ),
)


@given(st.lists(_operation, max_size=5))
def test_rendered_operations_parse_back_to_the_same_operations(ops: list[FileOperation]) -> None:
    assert parse_patch(render_patch(ops)) == ops


@given(
    before=st.lists(_line.map(lambda s: "b" + s), max_size=5),
    old=st.lists(_line.map(lambda s: "o" + s), min_size=1, max_size=4),
    new=st.lists(_line.map(lambda s: "n" + s), max_size=4),
    after=st.lists(_line.map(lambda s: "a" + s), max_size=5),
)
def test_applying_a_parsed_update_replaces_exactly_the_old_lines(
    before: list[str], old: list[str], new: list[str], after: list[str]
) -> None:
    # Line prefixes keep `old` from occurring in `before`, so its place is unambiguous (and no
    # result ends in an empty line, which the reference folds into the final newline).
    original = "".join(line + "\n" for line in before + old + after)
    patch = render_patch([UpdateFile("f", (UpdateChunk(None, tuple(old), tuple(new)),))])
    (update,) = parse_patch(patch)
    assert isinstance(update, UpdateFile)
    expected = "".join(line + "\n" for line in before + new + after)
    assert apply_chunks(original, update.chunks, "f") == expected


def test_a_patch_with_every_kind_of_operation_parses() -> None:
    text = (
        "*** Begin Patch\n"
        "*** Add File: a.txt\n+one\n+two\n"
        "*** Delete File: gone.txt\n"
        "*** Update File: src/m.py\n*** Move to: src/n.py\n"
        "@@ def f():\n-    pass\n+    return 1\n"
        "@@\n keep\n-old\n+new\n*** End of File\n"
        "\n"  # blank lines between chunks are skipped (inside one: an empty context line)
        "*** End Patch"
    )
    assert parse_patch(text) == [
        AddFile("a.txt", "one\ntwo\n"),
        DeleteFile("gone.txt"),
        UpdateFile(
            "src/m.py",
            (
                UpdateChunk("def f():", ("    pass",), ("    return 1",)),
                UpdateChunk(None, ("keep", "old"), ("keep", "new"), end_of_file=True),
            ),
            "src/n.py",
        ),
    ]


def test_padded_markers_a_heredoc_wrapper_and_a_first_chunk_without_header_are_accepted() -> None:
    text = "<<'EOF'\n *** Begin Patch \n*** Update File: f\n import x\n+y\n*** End Patch  \nEOF\n"
    assert parse_patch(text) == [
        UpdateFile("f", (UpdateChunk(None, ("import x",), ("import x", "y")),))
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bad", "the first line of the patch must be '*** Begin Patch'"),
        (
            "*** Begin Patch\n*** Add File: a\n+x",
            "the last line of the patch must be '*** End Patch'",
        ),
        (
            "*** Begin Patch\n*** Update File: t.py\n*** End Patch",
            "the update of 't.py' has no changes",
        ),
        ("*** Begin Patch\n*** Frobnicate: t\n*** End Patch", "line 2: '*** Frobnicate: t' is not"),
        ("*** Begin Patch\n*** Update File: t\n@@\n-a\n@@\n*** End Patch", "a change has no lines"),
        ("*** Begin Patch\n*** Update File: t\n@@\n?a\n*** End Patch", "unexpected line"),
        (
            "*** Begin Patch\n*** Update File: t\n-a\nfoo\n*** End Patch",
            "expected a change to start",
        ),
    ],
)
def test_malformed_patches_name_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PatchError, match="invalid patch") as caught:
        parse_patch(text)
    assert message in str(caught.value)


def test_context_lines_match_despite_whitespace_and_typographic_punctuation() -> None:
    original = "def f():\n    x = 1   \n    s = \u201cquote\u201d \u2014 dash\n"
    chunks = (UpdateChunk("def f():", ("x = 1", '    s = "quote" - dash'), ("x = 2", "s = 0")),)
    assert apply_chunks(original, chunks, "f") == "def f():\nx = 2\ns = 0\n"


def test_chunks_apply_after_their_context_and_at_the_end_of_file() -> None:
    original = "a\nx\nb\nx\nc\nx\n"
    chunks = (
        UpdateChunk("b", ("x",), ("X1",)),
        UpdateChunk(None, ("x",), ("X2",), end_of_file=True),
    )
    assert apply_chunks(original, chunks, "f") == "a\nx\nb\nX1\nc\nX2\n"
    # A pure addition goes at the end; a file without a final newline gets one.
    assert apply_chunks("a", (UpdateChunk(None, (), ("b",)),), "f") == "a\nb\n"


def test_a_chunk_that_does_not_match_says_which_lines_and_file() -> None:
    with pytest.raises(PatchError, match=r"failed to find the expected lines in f\.py:\nnope"):
        apply_chunks("a\n", (UpdateChunk(None, ("nope",), ("x",)),), "f.py")
    with pytest.raises(PatchError, match=r"context line 'class Z' in f\.py"):
        apply_chunks("a\n", (UpdateChunk("class Z", ("a",), ("x",)),), "f.py")


def test_unified_diff_has_hunks_without_a_file_header() -> None:
    assert unified_diff("a\nb\nc\n", "a\nB\nc\n") == "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"


PATCH = "*** Begin Patch\n*** Add File: f\n+hi\n*** End Patch"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["apply_patch", PATCH], PatchInvocation(PATCH)),
        (["applypatch", PATCH], PatchInvocation(PATCH)),
        (["bash", "-lc", f"apply_patch <<'EOF'\n{PATCH}\nEOF\n"], PatchInvocation(PATCH)),
        (["/bin/zsh", "-c", f'apply_patch <<"P"\n{PATCH}\nP'], PatchInvocation(PATCH)),
        (
            ["bash", "-lc", f"cd sub && apply_patch <<EOF\n{PATCH}\nEOF"],
            PatchInvocation(PATCH, "sub"),
        ),
        (
            ["bash", "-lc", f"cd 'a b' && apply_patch <<EOF\n{PATCH}\nEOF"],
            PatchInvocation(PATCH, "a b"),
        ),
        (["bash", "-lc", f"echo hi; apply_patch <<EOF\n{PATCH}\nEOF"], None),
        (["bash", "-lc", f"apply_patch <<EOF\n{PATCH}\nEOF\necho done"], None),
        (["bash", "-lc", "ls"], None),
        (["apply_patch"], None),
        (["python", "-c", f"apply_patch <<EOF\n{PATCH}\nEOF"], None),
    ],
)
def test_apply_patch_commands_are_recognised_in_argv_and_heredoc_form(
    argv: list[str], expected: PatchInvocation | None
) -> None:
    assert patch_invocation(argv) == expected

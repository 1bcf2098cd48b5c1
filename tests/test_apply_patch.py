"""apply_patch end to end: ``exec`` against the emulator scripted to send patches, in the forms a
model uses (shell heredoc, argv, the ``apply_patch`` function); and its app-server items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from codex_engine.app_server.projector import TurnProjector
from codex_engine.config.catalog import find_model_info
from codex_engine.config.loader import SandboxMode
from codex_engine.core.events import FileChange, PatchFinished, PatchStarted
from codex_engine.core.settings import SessionSettings
from codex_engine.core.tools.apply_patch import outside_writable_roots
from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import emulator_flags, require_reference, run_cli
from tests.test_app_server import SchemaChecker
from tests.test_cli_no_sandbox import snapshot, tool_outputs

EVERY_KIND = """*** Begin Patch
*** Add File: new/dir/added.txt
+fresh
+file
*** Update File: F
@@
 line one
-line two
+line 2
*** Update File: M
*** Move to: sub/moved.txt
@@
-move me
+moved
*** Delete File: D
*** End Patch"""


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    (path / "F").write_text("line one\nline two\nline three\n")
    (path / "M").write_text("move me\n")
    (path / "D").write_text("delete me\n")
    return path


def heredoc(patch: str) -> Reply:
    return Reply.function_call(
        "shell", {"command": ["bash", "-lc", f"apply_patch <<'EOF'\n{patch}\nEOF\n"]}
    )


async def exec_patch(
    emulator: ResponsesEmulator, home: Path, cwd: Path, *replies: Reply, sandbox: str
) -> tuple[list[dict[str, Any]], list[str]]:
    emulator.enqueue(*replies, Reply.text("done"))
    result = await run_cli(
        "exec",
        "--json",
        # The patches come through the `shell` tool (argv and heredoc forms): keep it.
        "--disable",
        "unified_exec",
        "-s",
        sandbox,
        *emulator_flags(emulator.base_url),
        "--skip-git-repo-check",
        "edit",
        home=home,
        cwd=cwd,
    )
    assert result.code == 0, result.stdout + result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    started = {
        e["item"]["id"]: e["item"]
        for e in events
        if e["type"] == "item.started" and e["item"]["type"] == "file_change"
    }
    items = [
        e["item"]
        for e in events
        if e["type"] == "item.completed" and e["item"]["type"] == "file_change"
    ]
    # As the reference: item.started (in_progress) then item.completed with the same id, once
    # the patch is being written; a declined patch only completes (failed).
    for item in items:
        begun = started.pop(item["id"], None)
        assert begun is not None or item["status"] == "failed"
        assert begun is None or begun["status"] == "in_progress"
    assert started == {}
    return items, tool_outputs(emulator)


async def test_a_heredoc_patch_adds_updates_moves_and_deletes_files(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    items, outputs = await exec_patch(
        emulator, codex_home, work, heredoc(EVERY_KIND), sandbox="workspace-write"
    )
    assert (work / "new/dir/added.txt").read_text() == "fresh\nfile\n"
    assert (work / "F").read_text() == "line one\nline 2\nline three\n"
    assert (work / "sub/moved.txt").read_text() == "moved\n"
    assert not (work / "M").exists() and not (work / "D").exists()
    assert not [p for p in snapshot(work) if p.endswith(".tmp")], "no temporary file is left"
    assert outputs == [
        "Success. Updated the following files:\nA new/dir/added.txt\nM F\nM sub/moved.txt\nD D\n"
    ]
    (item,) = items
    assert item["status"] == "completed"
    assert [(Path(c["path"]).relative_to(work).as_posix(), c["kind"]) for c in item["changes"]] == [
        ("new/dir/added.txt", "add"),
        ("F", "update"),
        ("M", "update"),
        ("D", "delete"),
    ]


async def test_argv_form_cd_heredoc_and_the_apply_patch_function_all_apply(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    (work / "sub").mkdir()

    def add(name: str) -> str:
        return f"*** Begin Patch\n*** Add File: {name}\n+{name}\n*** End Patch"

    cd_form = f"cd sub && apply_patch <<'EOF'\n{add('c.txt')}\nEOF"
    _, outputs = await exec_patch(
        emulator,
        codex_home,
        work,
        Reply.function_call("shell", {"command": ["apply_patch", add("a.txt")]}),
        Reply.function_call("shell", {"command": ["applypatch", add("b.txt")]}),
        Reply.function_call("shell", {"command": ["bash", "-lc", cd_form]}),
        Reply.function_call("apply_patch", {"input": add("d.txt")}),
        sandbox="workspace-write",
    )
    assert all(o.startswith("Success.") for o in outputs), outputs
    for name in ("a.txt", "b.txt", "sub/c.txt", "d.txt"):
        assert (work / name).read_text() == Path(name).name + "\n"


async def test_a_hunk_that_does_not_match_fails_the_whole_patch_and_touches_nothing(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    bad = EVERY_KIND.replace("-move me", "-not in the file")
    before = snapshot(work)
    items, outputs = await exec_patch(
        emulator, codex_home, work, heredoc(bad), sandbox="workspace-write"
    )
    assert snapshot(work) == before
    assert items == []
    (output,) = outputs
    assert output.startswith(
        "apply_patch verification failed: failed to find the expected lines in M:"
    )
    assert "not in the file" in output and "read the file again" in output


async def test_a_malformed_patch_is_explained_to_the_model(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    before = snapshot(work)
    _, outputs = await exec_patch(
        emulator,
        codex_home,
        work,
        heredoc("*** Begin Patch\n*** Frob: x\n*** End Patch"),
        sandbox="workspace-write",
    )
    assert snapshot(work) == before
    assert outputs[0].startswith("apply_patch verification failed: invalid patch at line 2:")


async def test_a_patch_outside_the_writable_roots_needs_approval_which_exec_declines(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    before = snapshot(work)
    items, outputs = await exec_patch(
        emulator, codex_home, work, heredoc(EVERY_KIND), sandbox="read-only"
    )
    assert snapshot(work) == before
    (output,) = outputs
    assert output.startswith("patch not applied: the patch writes outside the writable roots")
    assert "no approval can be given here" in output
    (item,) = items
    assert item["status"] == "failed"


def test_writable_roots_follow_the_sandbox_mode(tmp_path: Path) -> None:
    inside, elsewhere = tmp_path / "a", Path("/usr/share/x")
    base = SessionSettings(
        cwd=tmp_path, model_info=find_model_info("gpt-5.1-codex"), base_instructions=""
    )

    def outside(mode: SandboxMode) -> list[Path]:
        return outside_writable_roots(
            [inside, elsewhere], msgspec.structs.replace(base, sandbox_mode=mode)
        )

    assert outside("workspace-write") == [elsewhere]
    assert outside("read-only") == [inside, elsewhere]
    assert outside("danger-full-access") == []


def test_file_changes_become_schema_valid_file_change_items_and_the_turn_diff() -> None:
    checker = SchemaChecker(require_reference("app-server-schema"))
    projector = TurnProjector("th", "t", context_window=None, clock_ms=lambda: 0)
    changes = (
        FileChange("/w/a", "add", "hi\n"),
        FileChange("/w/b", "update", "@@ -1 +1 @@\n-a\n+b\n", "/w/c"),
        FileChange("/w/d", "delete", "bye\n"),
    )
    notes = [
        *projector.on_event(PatchStarted("call_1", changes)),
        *projector.on_event(PatchFinished("call_1", changes, "completed", "ok")),
        *projector.on_event(PatchFinished("call_2", changes[:1], "declined", "no")),
    ]
    assert [(m, p["item"]["status"] if "item" in p else None) for m, p in notes] == [
        ("item/started", "inProgress"),
        ("item/completed", "completed"),
        ("turn/diff/updated", None),
        ("item/started", "declined"),
        ("item/completed", "declined"),
    ]
    assert notes[2][1]["diff"] == (
        "diff --git a/w/a b/w/a\nnew file mode 100644\n--- /dev/null\n+++ b/w/a\n"
        "@@ -0,0 +1 @@\n+hi\n"
        "diff --git a/w/b b/w/c\n--- a/w/b\n+++ b/w/c\n@@ -1 +1 @@\n-a\n+b\n"
        "diff --git a/w/d b/w/d\ndeleted file mode 100644\n--- a/w/d\n+++ /dev/null\n"
        "@@ -1 +0,0 @@\n-bye\n"
    )
    assert notes[1][1]["item"]["changes"][1] == {
        "path": "/w/b",
        "kind": {"type": "update", "move_path": "/w/c"},
        "diff": "@@ -1 +1 @@\n-a\n+b\n",
    }
    for method, params in notes:
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        assert checker.errors(message, lambda _id: None) == []


# gpt-5.1-codex's catalog kind is freeform: it is offered the custom tool (since custom tool
# calls are supported), and a function call it makes is still carried out.
@pytest.mark.parametrize(("model", "kind"), [("gpt-5.2", "function"), ("gpt-5.1-codex", "custom")])
async def test_models_whose_catalog_says_function_are_offered_the_apply_patch_function(
    emulator: ResponsesEmulator, codex_home: Path, work: Path, model: str, kind: str
) -> None:
    patch = "*** Begin Patch\n*** Add File: f.txt\n+by function\n*** End Patch"
    emulator.enqueue(Reply.function_call("apply_patch", {"input": patch}), Reply.text("done"))
    result = await run_cli(
        "exec",
        "-m",
        model,
        "-s",
        "workspace-write",
        "--skip-git-repo-check",
        *emulator_flags(emulator.base_url),
        "edit",
        home=codex_home,
        cwd=work,
    )
    assert result.code == 0, result.stderr
    tools = {t.get("name"): t for t in emulator.requests_of("http")[0].body["tools"]}
    spec = tools["apply_patch"]
    assert spec["type"] == kind
    if kind == "function":
        assert spec["parameters"]["required"] == ["input"]
    assert (work / "f.txt").read_text() == "by function\n"


async def test_empty_patches_bad_arguments_and_failed_writes_are_told_to_the_model(
    emulator: ResponsesEmulator, codex_home: Path, work: Path
) -> None:
    # F is a file, so F/x.txt cannot be written: found only when writing, after verification.
    unwritable = "*** Begin Patch\n*** Add File: F/x.txt\n+x\n*** End Patch"
    items, outputs = await exec_patch(
        emulator,
        codex_home,
        work,
        heredoc("*** Begin Patch\n*** End Patch"),
        Reply.function_call("apply_patch", {"patch": "wrong key"}),
        heredoc(unwritable),
        sandbox="workspace-write",
    )
    assert outputs[0] == (
        "apply_patch verification failed: the patch changes no files; add at least one file "
        "operation"
    )
    assert outputs[1].startswith('invalid arguments: expected {"input":')
    assert outputs[2].startswith("apply_patch failed while writing:")
    (item,) = items
    assert item["status"] == "failed"
    assert (work / "F").read_text() == "line one\nline two\nline three\n"

"""``exec`` on a host where bubblewrap cannot sandbox: what runs, what is refused, what is said."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from codex_engine.emulator import Reply, ResponsesEmulator
from tests.conftest import emulator_flags, run_cli


@pytest.fixture
def failing_bwrap_path(tmp_path: Path) -> str:
    """A PATH whose ``bwrap`` exits 1, as on hosts that forbid user namespaces."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    fake = bin_dir / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        check=True,
        capture_output=True,
    )


def branch_names(repo: Path) -> list[str]:
    listing = subprocess.run(
        ["git", "-C", str(repo), "branch", "--format=%(refname:short)"],
        check=True,
        capture_output=True,
        text=True,
    )
    return listing.stdout.split()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    (path / "F").write_text("line one\nline two\n")
    (path / "IN").write_text("a\na\nb\n")
    git(path, "init", "-q")
    git(path, "add", "F", "IN")
    git(path, "commit", "-q", "-m", "initial")
    git(path, "branch", "keep")
    return path


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file and directory under ``root`` (``.git`` included), with file contents."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        found[key] = path.read_bytes() if path.is_file() and not path.is_symlink() else None
    return found


def shell_call(script: str) -> Reply:
    return Reply.function_call("shell", {"command": ["bash", "-lc", script]})


def tool_outputs(emulator: ResponsesEmulator) -> list[str]:
    outputs = []
    for request in emulator.requests_of("http"):
        last = request.body["input"][-1]
        if last.get("type") == "function_call_output":
            outputs.append(last["output"])
    return outputs


async def test_without_a_working_sandbox_reads_run_with_one_warning_and_writes_do_not(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, failing_bwrap_path: str
) -> None:
    emulator.enqueue(
        shell_call("cat F"),
        shell_call("sed -n 1p -i F"),
        shell_call("sed -n 2p F"),
        Reply.text("all done"),
    )
    result = await run_cli(
        "exec",
        "--disable",
        "unified_exec",  # the model's commands are `shell` calls
        "-s",
        "read-only",
        *emulator_flags(emulator.base_url),
        "look at F",
        home=codex_home,
        cwd=repo,
        PATH=failing_bwrap_path,
    )
    assert result.code == 0, result.stderr
    assert result.stderr.count("no OS sandbox is available here") == 1, result.stderr
    assert "No permissions to create new namespace" in result.stderr
    assert "$ cat F" in result.stderr and "$ sed -n 2p F" in result.stderr
    # Said before the first command, although that one needed no approval.
    assert result.stderr.index("no OS sandbox") < result.stderr.index("$ cat F")
    assert "not run:" in result.stderr and "$ sed -n 1p -i F" not in result.stderr
    assert (repo / "F").read_text() == "line one\nline two\n"
    outputs = tool_outputs(emulator)
    assert "line one\\nline two" in outputs[0]
    assert outputs[1].startswith("command not run:")
    assert "line two" in outputs[2]


ISSUE_10_COMMANDS = [
    "sed -n 'e touch X;p' F",
    "sed -n 1p -i F",
    "sed -n 'w X' F",
    "find . -fprintf X %p",
    "sort -o X F",
    "uniq IN OUT",
    "git log --output=X",
    "git branch evil",
    "git branch -D keep",
]


async def test_read_only_exec_leaves_files_and_repository_unchanged_whatever_the_model_runs(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, failing_bwrap_path: str
) -> None:
    before = snapshot(repo)
    emulator.enqueue(*(shell_call(c) for c in ISSUE_10_COMMANDS), Reply.text("tried them all"))
    result = await run_cli(
        "exec",
        "--disable",
        "unified_exec",  # the model's commands are `shell` calls
        "-s",
        "read-only",
        *emulator_flags(emulator.base_url),
        "try to write",
        home=codex_home,
        cwd=repo,
        PATH=failing_bwrap_path,
    )
    assert result.code == 0, result.stderr
    outputs = tool_outputs(emulator)
    assert len(outputs) == len(ISSUE_10_COMMANDS)
    assert all(output.startswith("command not run:") for output in outputs), outputs
    assert snapshot(repo) == before
    assert "evil" not in branch_names(repo) and "keep" in branch_names(repo)


def plant_bare_repository(repo: Path, marker: Path) -> Path:
    """A bare repository checked into the workspace whose config runs a program on `git status`."""
    bare = repo / "fixtures" / "evil.git"
    bare.parent.mkdir()
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    for key, value in (
        ("core.bare", "false"),
        ("core.worktree", ".."),
        ("core.fsmonitor", f"touch {marker}; false"),
    ):
        subprocess.run(["git", "--git-dir", str(bare), "config", key, value], check=True)
    return bare


async def test_git_is_not_auto_approved_where_a_planted_repository_could_configure_it(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, failing_bwrap_path: str
) -> None:
    marker = repo.parent / "PWNED"
    plant_bare_repository(repo, marker)
    emulator.enqueue(
        Reply.function_call(
            "shell", {"command": ["git", "status"], "workdir": "fixtures/evil.git"}
        ),
        shell_call("cd fixtures/evil.git && git status"),
        shell_call("git -C fixtures/evil.git status"),
        shell_call("git status --short"),
        Reply.text("done"),
    )
    result = await run_cli(
        "exec",
        "--disable",
        "unified_exec",  # the model's commands are `shell` calls
        "-s",
        "read-only",
        *emulator_flags(emulator.base_url),
        "check the fixtures",
        home=codex_home,
        cwd=repo,
        PATH=failing_bwrap_path,
    )
    assert result.code == 0, result.stderr
    outputs = tool_outputs(emulator)
    assert all(output.startswith("command not run:") for output in outputs[:3]), outputs
    assert not marker.exists()
    # In the workspace's own directory git still runs without approval.
    assert "command not run" not in outputs[3] and "fixtures/" in outputs[3]

"""The bubblewrap sandbox, exercised with real commands (skipped where bwrap cannot run)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from codex_engine.core import sandbox
from codex_engine.core.sandbox import (
    SandboxMode,
    SandboxSupport,
    detect_sandbox,
    git_metadata_under,
    sandbox_writable_roots,
    wrap_command,
)
from codex_engine.core.tools.shell import ShellCall, ShellResult, run_shell


@pytest.fixture
async def bwrap() -> AsyncIterator[str]:
    support = await detect_sandbox()
    if not support.available or support.bwrap is None:
        pytest.skip(f"no working bubblewrap here: {support.reason}")
    yield support.bwrap


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


async def run_in(
    bwrap: str,
    mode: SandboxMode,
    workspace: Path,
    script: str,
    *,
    network: bool = False,
    writable: list[Path] | None = None,
) -> ShellResult:
    argv = wrap_command(
        ["bash", "-c", script],
        mode=mode,
        cwd=workspace,
        writable_roots=[workspace] if writable is None else writable,
        network=network,
        bwrap=bwrap,
    )
    return await run_shell(ShellCall(command=argv, workdir=workspace, timeout_s=60))


async def test_workspace_write_allows_writes_inside_the_workspace_only(
    bwrap: str, workspace: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()

    inside = await run_in(bwrap, "workspace-write", workspace, "echo hi > made.txt")
    escaped = await run_in(bwrap, "workspace-write", workspace, f"echo hi > {outside}/x.txt")

    assert inside.exit_code == 0, inside.output
    assert (workspace / "made.txt").read_text() == "hi\n"
    assert escaped.exit_code != 0
    assert "Read-only file system" in escaped.output
    assert not (outside / "x.txt").exists()


async def test_workspace_write_with_default_roots_can_use_tmp(bwrap: str, workspace: Path) -> None:
    probe = Path("/tmp") / f"codex-engine-sandbox-{uuid.uuid4().hex}"
    try:
        result = await run_in(
            bwrap,
            "workspace-write",
            workspace,
            f"echo t > {probe}",
            writable=sandbox_writable_roots(workspace),
        )
        assert result.exit_code == 0, result.output
        assert probe.read_text() == "t\n"
    finally:
        probe.unlink(missing_ok=True)


async def test_workspace_write_keeps_git_metadata_read_only(bwrap: str, workspace: Path) -> None:
    (workspace / ".git").mkdir()
    result = await run_in(bwrap, "workspace-write", workspace, "echo x > .git/HEAD")
    assert result.exit_code != 0
    assert not (workspace / ".git" / "HEAD").exists()


async def test_read_only_refuses_every_write(bwrap: str, workspace: Path, tmp_path: Path) -> None:
    result = await run_in(
        bwrap,
        "read-only",
        workspace,
        f"echo a > in.txt; echo b > {tmp_path}/probe; cat /etc/hostname",
    )
    assert result.output.count("Read-only file system") == 2, result.output
    assert not (workspace / "in.txt").exists()
    assert not (tmp_path / "probe").exists()


async def test_read_only_still_runs_reading_commands(bwrap: str, workspace: Path) -> None:
    (workspace / "data.txt").write_text("payload\n")
    result = await run_in(bwrap, "read-only", workspace, "cat data.txt && pwd")
    assert result.exit_code == 0
    assert result.output == f"payload\n{workspace}\n"


@pytest.fixture
def listening_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield server.getsockname()[1]


@pytest.mark.parametrize("mode", ["read-only", "workspace-write"])
async def test_network_is_cut_off_unless_allowed(
    bwrap: str, workspace: Path, listening_port: int, mode: SandboxMode
) -> None:
    connect = f"exec 3<>/dev/tcp/127.0.0.1/{listening_port} && echo connected"

    blocked = await run_in(bwrap, mode, workspace, connect)
    allowed = await run_in(bwrap, mode, workspace, connect, network=True)
    unsandboxed = await run_in(bwrap, "danger-full-access", workspace, connect)

    assert blocked.exit_code != 0 and "connected" not in blocked.output
    assert allowed.exit_code == 0 and "connected" in allowed.output
    assert unsandboxed.exit_code == 0 and "connected" in unsandboxed.output


def test_full_access_leaves_the_command_unchanged(tmp_path: Path) -> None:
    argv = ["bash", "-lc", "make"]
    wrapped = wrap_command(
        argv, mode="danger-full-access", cwd=tmp_path, writable_roots=[tmp_path], network=False
    )
    assert wrapped == argv


def test_nested_roots_are_bound_parent_first_and_git_after_them(tmp_path: Path) -> None:
    inner = tmp_path / "outer" / "inner"
    (inner / ".git").mkdir(parents=True)
    outer = tmp_path / "outer"
    argv = wrap_command(
        ["true"],
        mode="workspace-write",
        cwd=inner,
        writable_roots=[inner, outer, tmp_path / "missing"],
        network=True,
    )
    binds = [
        argv[i + 1] for i, arg in enumerate(argv) if arg in {"--bind", "--ro-bind", "--ro-bind-try"}
    ]
    assert binds == ["/", str(outer.resolve()), str(inner.resolve()), str(inner / ".git")]
    assert "--unshare-net" not in argv
    assert argv[-2:] == ["--", "true"]
    assert argv[argv.index("--chdir") + 1] == str(inner.resolve())


def nested_repositories(root: Path) -> dict[str, Path]:
    """A workspace holding repositories in every shape git makes them."""
    paths = {
        "top": root / ".git",
        "nested": root / "vendor" / "lib" / ".git",
        "deep": root / "a" / "b" / "c" / "d" / ".git",
        "worktree": root / "wt" / ".git",
        "worktree_dir": root / ".git" / "worktrees" / "wt",
        "submodule": root / "mod" / ".git",
        "submodule_dir": root / "gitdirs" / "mod",
        "inside_git": root / ".git" / "modules" / "x" / ".git",
    }
    for key in ("top", "nested", "deep", "worktree_dir", "submodule_dir", "inside_git"):
        paths[key].mkdir(parents=True)
    paths["worktree"].parent.mkdir()
    paths["worktree"].write_text("gitdir: ../.git/worktrees/wt\n")
    paths["submodule"].parent.mkdir()
    paths["submodule"].write_text(f"gitdir: {paths['submodule_dir']}\n")
    return paths


def test_every_repository_under_the_roots_keeps_its_git_read_only(tmp_path: Path) -> None:
    root = (tmp_path / "ws").resolve()
    root.mkdir()
    repos = nested_repositories(root)
    outside = tmp_path / "outside"
    (outside / ".git").mkdir(parents=True)
    (root / "linked").symlink_to(outside, target_is_directory=True)
    (root / "dangling").mkdir()
    (root / "dangling" / ".git").symlink_to(tmp_path / "missing")

    argv = wrap_command(
        ["true"], mode="workspace-write", cwd=root, writable_roots=[root], network=False
    )

    pairs = [(argv[i], argv[i + 1]) for i, arg in enumerate(argv) if arg.startswith("--")]
    writable = [path for flag, path in pairs if flag == "--bind"]
    assert [path for flag, path in pairs if flag == "--ro-bind"] == ["/"]
    protected = [path for flag, path in pairs if flag == "--ro-bind-try"]
    assert writable == [str(root)]
    expected = {str(repos[k]) for k in repos if k != "inside_git"}
    assert set(protected) == expected
    assert len(protected) == len(expected)
    # Every protected path is bound after every writable root, parents before children.
    last_bind = max(i for i, arg in enumerate(argv) if arg == "--bind")
    assert all(argv.index(path) > last_bind for path in protected)
    assert protected.index(str(repos["top"])) < protected.index(str(repos["worktree_dir"]))
    assert str(outside / ".git") not in argv  # the symlinked directory was not followed
    assert str(root / "dangling" / ".git") not in argv


def test_the_search_for_repositories_is_bounded(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    repos = nested_repositories(root)
    assert git_metadata_under([root], max_dirs=0) == [repos["top"]]
    assert git_metadata_under([root], max_dirs=1) == [repos["top"]]
    # Breadth first: the root and its five subdirectories reveal the repositories one level
    # down, not those further down.
    shallow = git_metadata_under([root], max_dirs=6)
    assert {repos["worktree"], repos["submodule"]} <= set(shallow)
    assert repos["nested"] not in shallow and repos["deep"] not in shallow
    assert {repos["nested"], repos["deep"]} <= set(git_metadata_under([root]))


def test_read_only_mode_binds_nothing_writable(tmp_path: Path) -> None:
    nested_repositories(tmp_path)
    argv = wrap_command(
        ["true"], mode="read-only", cwd=tmp_path, writable_roots=[tmp_path], network=False
    )
    assert "--bind" not in argv and argv.count("--ro-bind") == 1


async def test_workspace_write_keeps_nested_repositories_read_only(
    bwrap: str, workspace: Path
) -> None:
    repos = nested_repositories(workspace)
    (repos["nested"] / "HEAD").write_text("ref: refs/heads/main\n")
    script = (
        "echo x > vendor/lib/.git/HEAD; echo x > a/b/c/d/.git/config; echo x > wt/.git; "
        "echo x > gitdirs/mod/config; echo ok > vendor/lib/file.txt"
    )
    result = await run_in(bwrap, "workspace-write", workspace, script)
    assert result.output.count("Read-only file system") == 4, result.output
    assert (repos["nested"] / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert not (repos["deep"] / "config").exists()
    assert (repos["worktree"]).read_text() == "gitdir: ../.git/worktrees/wt\n"
    assert (workspace / "vendor" / "lib" / "file.txt").read_text() == "ok\n"


async def test_a_repository_that_vanishes_before_the_command_runs_does_not_fail_it(
    bwrap: str, workspace: Path
) -> None:
    gone = workspace / "scratch" / ".git"
    gone.mkdir(parents=True)
    argv = wrap_command(
        ["bash", "-c", "echo ran"],
        mode="workspace-write",
        cwd=workspace,
        writable_roots=[workspace],
        network=False,
        bwrap=bwrap,
    )
    assert str(gone) in argv
    gone.rmdir()
    result = await run_shell(ShellCall(command=argv, workdir=workspace, timeout_s=60))
    assert result.exit_code == 0, result.output
    assert result.output == "ran\n"


def test_workspace_write_roots_are_the_workspace_tmp_and_extras(tmp_path: Path) -> None:
    extra = tmp_path / "cache"
    roots = sandbox_writable_roots(tmp_path, [extra, tmp_path])
    assert roots == [tmp_path.resolve(), Path("/tmp").resolve(), extra.resolve()]


@pytest.fixture
def fresh_detection() -> Iterator[None]:
    saved = sandbox._cached
    sandbox._cached = None
    yield
    sandbox._cached = saved


async def test_missing_bwrap_is_reported_with_how_to_install(
    fresh_detection: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    support = await detect_sandbox()
    assert support == SandboxSupport(available=False, reason=support.reason)
    assert support.reason is not None and "bubblewrap" in support.reason


async def test_detection_is_cached_until_refreshed(
    fresh_detection: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    first = await detect_sandbox()
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    assert await detect_sandbox() is first
    refreshed = await detect_sandbox(refresh=True)
    assert refreshed.available is False
    assert refreshed.bwrap == str(fake)
    assert refreshed.reason is not None and "No permissions" in refreshed.reason

"""Git context from real repositories in tmp_path, with real git processes."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from codex_engine.core.git_info import (
    GitInfo,
    collect_git_info,
    find_repo_root,
    git_context_message,
    redact_remote_url,
    render_git_context,
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def make_repo(path: Path, *, commit: bool = True) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if commit:
        (path / "README").write_text("hello\n")
        git(path, "add", "README")
        git(path, "commit", "-q", "-m", "first")
    return path


async def test_repository_reports_branch_commit_remotes_and_changes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "remote", "add", "origin", "https://x-token:s3cret@github.com/acme/app.git")
    git(repo, "remote", "add", "upstream", "git@github.com:acme/upstream.git")
    (repo / "new.txt").write_text("untracked\n")
    head = git(repo, "rev-parse", "HEAD")

    info = await collect_git_info(repo, budget_s=None)

    assert info == GitInfo(
        root=repo.resolve(),
        commit_hash=head,
        branch="main",
        remotes=(
            ("origin", "https://github.com/acme/app.git"),
            ("upstream", "git@github.com:acme/upstream.git"),
        ),
        has_changes=True,
    )
    assert info.to_session_meta() == {
        "commit_hash": head,
        "branch": "main",
        "repository_url": "https://github.com/acme/app.git",
    }
    assert info.to_turn_metadata_workspaces() == {
        str(repo.resolve()): {
            "associated_remote_urls": {
                "origin": "https://github.com/acme/app.git",
                "upstream": "git@github.com:acme/upstream.git",
            },
            "latest_git_commit_hash": head,
            "has_changes": True,
        }
    }


async def test_clean_repository_has_no_changes_and_no_remotes(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    info = await collect_git_info(repo, budget_s=None)
    assert info is not None
    assert info.has_changes is False
    assert info.remotes == ()
    assert info.repository_url is None
    assert "repository_url" not in info.to_session_meta()
    assert "associated_remote_urls" not in info.to_turn_metadata_workspaces()[str(info.root)]


async def test_subdirectory_resolves_to_the_repository_root(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    sub = repo / "a" / "b"
    sub.mkdir(parents=True)
    info = await collect_git_info(sub, budget_s=None)
    assert info is not None
    assert info.root == repo.resolve()
    assert find_repo_root(sub) == repo.resolve()


async def test_directory_outside_any_repository_gives_none(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert await collect_git_info(plain) is None


async def test_missing_git_binary_gives_none(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    assert await collect_git_info(repo, git=str(tmp_path / "no-such-git")) is None


async def test_repository_without_commits_omits_commit_and_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", commit=False)
    info = await collect_git_info(repo, budget_s=None)
    assert info is not None
    assert info.commit_hash is None
    assert info.to_session_meta() == {}


async def test_detached_head_reports_no_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "checkout", "-q", "--detach")
    info = await collect_git_info(repo, budget_s=None)
    assert info is not None
    assert info.branch is None
    assert info.commit_hash == git(repo, "rev-parse", "HEAD")


async def test_linked_worktree_with_git_file_is_its_own_root(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(worktree))
    assert (worktree / ".git").is_file()
    info = await collect_git_info(worktree, budget_s=None)
    assert info is not None
    assert info.root == worktree.resolve()
    assert info.branch == "feature"


def hanging_git(tmp_path: Path, pid_file: Path) -> str:
    """A git that answers everything except `status`, which never returns."""
    real = shutil.which("git")
    script = tmp_path / "slow-git"
    script.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do\n'
        '  if [ "$a" = status ]; then echo $$ > ' + str(pid_file) + "; exec sleep 600; fi\n"
        "done\n"
        f'exec {real} "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def assert_gone(pid_file: Path) -> None:
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_slow_command_is_left_out_when_budget_runs_out_and_killed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    pid_file = tmp_path / "status.pid"
    info = await collect_git_info(
        repo, budget_s=1.0, command_timeout_s=60, git=hanging_git(tmp_path, pid_file)
    )
    assert info is not None
    assert info.commit_hash == git(repo, "rev-parse", "HEAD")
    assert info.has_changes is None
    assert_gone(pid_file)


async def test_command_past_its_own_timeout_is_left_out_and_killed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    pid_file = tmp_path / "status.pid"
    info = await collect_git_info(
        repo, budget_s=None, command_timeout_s=0.5, git=hanging_git(tmp_path, pid_file)
    )
    assert info is not None
    assert info.branch == "main"
    assert info.has_changes is None
    assert_gone(pid_file)


async def test_model_visible_block_lists_each_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "remote", "add", "origin", "https://github.com/acme/app.git")
    info = await collect_git_info(repo, budget_s=None)
    assert info is not None
    message = git_context_message([info])
    assert message is not None and message.role == "user"
    text = message.text()
    assert text.startswith("<git_context>\n  <repository root=")
    assert f'root="{repo.resolve()}"' in text
    assert "<branch>main</branch>" in text
    assert f"<latest_commit>{info.commit_hash}</latest_commit>" in text
    assert '<remote name="origin">https://github.com/acme/app.git</remote>' in text
    assert "<has_uncommitted_changes>false</has_uncommitted_changes>" in text
    assert text.endswith("</repository>\n</git_context>")
    assert git_context_message([]) is None


def test_block_escapes_markup_in_paths_names_and_urls() -> None:
    info = GitInfo(
        root=Path('/w/a&b "<c>"'),
        branch="fix<&>",
        remotes=(('o"1', "https://h/x?a=1&b=2"),),
    )
    text = render_git_context([info])
    assert 'root="/w/a&amp;b &quot;&lt;c&gt;&quot;"' in text
    assert "<branch>fix&lt;&amp;&gt;</branch>" in text
    assert '<remote name="o&quot;1">https://h/x?a=1&amp;b=2</remote>' in text
    assert "<latest_commit>" not in text and "<has_uncommitted_changes>" not in text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:pw@github.com/a/b.git", "https://github.com/a/b.git"),
        ("https://ghp_token@github.com/a/b.git", "https://github.com/a/b.git"),
        ("ssh://git:pw@host:22/a.git", "ssh://git@host:22/a.git"),
        ("ssh://git@host/a.git", "ssh://git@host/a.git"),
        ("git@github.com:a/b.git", "git@github.com:a/b.git"),
        ("/srv/git/b.git", "/srv/git/b.git"),
    ],
)
def test_remote_urls_lose_embedded_credentials(url: str, expected: str) -> None:
    assert redact_remote_url(url) == expected

"""Input a user can type or pipe never gives a traceback: one line naming cause and fix, a
sensible exit code, and nothing half-written on disk. The CLI runs as a subprocess."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from codex_engine.emulator import ResponsesEmulator
from tests.conftest import Run, cli_env, emulator_flags

Arg = str | bytes


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    path.mkdir()
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


async def run_raw(
    *args: Arg,
    home: Path,
    cwd: Path | bytes,
    stdin: bytes | None = None,
    close_stdin: bool = False,
) -> Run:
    """The CLI with arguments and stdin as raw bytes (what a shell hands over)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "codex_engine", *args,
        cwd=cwd, env=cli_env(home),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        preexec_fn=(lambda: os.close(0)) if close_stdin else None,
    )  # fmt: skip
    out, err = await process.communicate(stdin)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


def error_lines(result: Run) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith(("error:", "Error:"))]


def the_error(result: Run) -> str:
    errors = error_lines(result)
    assert len(errors) == 1, result.stderr
    return errors[0]


# -- text that is not UTF-8 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prompt", "offset"),
    [(b"\xff\xfe", 0), (b"caf\xe9 au lait", 3)],
    ids=["only-bad-bytes", "latin1-word"],
)
async def test_a_prompt_argument_that_is_not_utf8_is_refused_before_a_session_exists(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, prompt: bytes, offset: int
) -> None:
    result = await run_raw(
        "exec", *emulator_flags(emulator.base_url), prompt, home=codex_home, cwd=repo
    )
    assert result.code == 1
    line = the_error(result)
    assert f"offset {offset}" in line and "iconv" in line
    assert result.stdout == ""
    assert not (codex_home / "sessions").exists()  # no rollout file, whole or half
    assert emulator.requests == []


async def test_a_prompt_on_stdin_that_is_not_utf8_is_refused_before_a_session_exists(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await run_raw(
        "exec", *emulator_flags(emulator.base_url), "-",
        home=codex_home, cwd=repo, stdin=b"summarise \xe9t\xe9 please",
    )  # fmt: skip
    assert result.code == 1
    line = the_error(result)
    assert "stdin" in line and "offset 10" in line and "iconv" in line
    assert not (codex_home / "sessions").exists()
    assert emulator.requests == []


async def test_a_config_override_nested_too_deeply_is_taken_as_text(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    deep = "[" * 5000 + "]" * 5000
    result = await run_raw(
        "exec", *emulator_flags(emulator.base_url), "-c", f"x={deep}", "hi",
        home=codex_home, cwd=repo,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert error_lines(result) == []


async def test_a_prompt_with_a_nul_byte_runs(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    result = await run_raw(
        "exec", *emulator_flags(emulator.base_url), "-",
        home=codex_home, cwd=repo, stdin=b"before\x00after",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert error_lines(result) == []
    assert "before" in result.stdout


# -- a CODEX_HOME that cannot be written ----------------------------------------------------------


@pytest.fixture
def make_unwritable() -> Iterator[Callable[[Path], None]]:
    """Makes a directory refuse new and removed entries, also for root (where chmod does not)."""
    locked: list[tuple[str, Path]] = []

    def lock(path: Path) -> None:
        if os.geteuid() != 0:
            path.chmod(0o555)
            locked.append(("chmod", path))
            return
        chattr = shutil.which("chattr")
        done = chattr is not None and (
            subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode == 0
        )
        if not done:
            pytest.skip("running as root (chmod does not stop root) and `chattr +i` is unavailable")
        locked.append(("chattr", path))

    yield lock
    for how, path in locked:
        if how == "chmod":
            path.chmod(0o755)
        else:
            subprocess.run(["chattr", "-i", str(path)], check=True)


async def test_login_into_a_read_only_codex_home_is_one_line(
    codex_home: Path, repo: Path, make_unwritable: Callable[[Path], None]
) -> None:
    make_unwritable(codex_home)
    result = await run_raw(
        "login", "--with-api-key", home=codex_home, cwd=repo, stdin=b"sk-test-readonly\n"
    )
    assert result.code == 1
    line = the_error(result)
    assert str(codex_home) in line and "CODEX_HOME" in line and "writable" in line
    assert "sk-test-readonly" not in result.stderr
    assert os.listdir(codex_home) == []  # no temp file left behind


async def test_logout_from_a_read_only_codex_home_is_one_line(
    codex_home: Path, repo: Path, make_unwritable: Callable[[Path], None]
) -> None:
    signed_in = await run_raw(
        "login", "--with-api-key", home=codex_home, cwd=repo, stdin=b"sk-test-readonly\n"
    )
    assert signed_in.code == 0, signed_in.stderr
    before = (codex_home / "auth.json").read_bytes()
    make_unwritable(codex_home)
    result = await run_raw("logout", home=codex_home, cwd=repo)
    assert result.code == 1
    line = the_error(result)
    assert str(codex_home) in line and "writable" in line
    assert (codex_home / "auth.json").read_bytes() == before


@pytest.mark.parametrize(
    ("stdin", "close_stdin", "needle"),
    [
        (b"sk-caf\xe9-key\n", False, "position 6"),
        (b"sk-tab\there\n", False, "position 6"),
        (None, True, "reads the key from stdin"),
    ],
    ids=["not-utf8", "control-character", "stdin-closed"],
)
async def test_an_api_key_that_cannot_be_sent_is_refused_in_one_line(
    codex_home: Path, repo: Path, stdin: bytes | None, close_stdin: bool, needle: str
) -> None:
    result = await run_raw(
        "login", "--with-api-key",
        home=codex_home, cwd=repo, stdin=stdin, close_stdin=close_stdin,
    )  # fmt: skip
    assert result.code == 1
    line = the_error(result)
    assert needle in line
    assert "caf" not in line and "here" not in line  # the key is a secret: never echoed
    assert not (codex_home / "auth.json").exists()


# -- stdout closed by its reader (`| head -1`) ----------------------------------------------------


def _read_until(fd: int, marker: bytes) -> bytes:
    seen = b""
    while marker not in seen:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        seen += chunk
    return seen


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
async def test_exec_whose_stdout_reader_goes_away_exits_quietly(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, tmp_path: Path, as_json: bool
) -> None:
    # The model's command blocks on a FIFO, so the reader can go away while the turn runs and
    # the CLI's next write to stdout is sure to find the pipe closed.
    gate = tmp_path / "gate"
    os.mkfifo(gate)
    read_end, write_end = os.pipe()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "codex_engine", "exec", *(["--json"] if as_json else []),
        "-s", "danger-full-access", *emulator_flags(emulator.base_url), f"run `cat {gate}`",
        cwd=repo, env=cli_env(codex_home), stdin=asyncio.subprocess.DEVNULL,
        stdout=write_end, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    os.close(write_end)
    loop = asyncio.get_running_loop()
    assert process.stderr is not None
    stderr = b""
    if as_json:  # like `head`: read until the command has started, then close
        seen = await loop.run_in_executor(None, _read_until, read_end, b'"command_execution"')
        assert b"thread.started" in seen
    else:  # plain text mode writes stdout only at the end; the command shows on stderr
        while b"$ cat" not in stderr:
            line = await process.stderr.readline()
            assert line, stderr
            stderr += line
    os.close(read_end)
    await loop.run_in_executor(None, gate.write_text, "released\n")
    stderr += await process.stderr.read()
    await process.wait()
    assert process.returncode == 141  # what a shell shows for a filter stopped by SIGPIPE
    text = stderr.decode()
    assert "Traceback" not in text and "Exception ignored" not in text
    assert "error" not in text.lower() and "BrokenPipe" not in text


async def test_exec_json_into_head_prints_one_line_and_no_error(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path
) -> None:
    command = [
        sys.executable, "-m", "codex_engine", "exec", "--json",
        *emulator_flags(emulator.base_url), "hi",
    ]  # fmt: skip
    pipeline = await asyncio.create_subprocess_exec(
        "bash", "-o", "pipefail", "-c", '"$@" | head -1', "bash", *command,
        cwd=repo, env=cli_env(codex_home),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await pipeline.communicate()
    assert pipeline.returncode in (0, 141)
    assert out.decode().count("\n") == 1 and "thread.started" in out.decode()
    assert err.decode() == ""


# -- everything else a user can type --------------------------------------------------------------


def _symlink_loop(tmp: Path, home: Path) -> None:
    (tmp / "loop-a").symlink_to(tmp / "loop-b")
    (tmp / "loop-b").symlink_to(tmp / "loop-a")


def _deeply_nested_config(tmp: Path, home: Path) -> None:
    (home / "config.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")


@dataclass(frozen=True)
class Case:
    args: tuple[Arg, ...]
    code: int
    needle: str
    home: str | None = None  # relative to tmp_path; None: the codex_home fixture
    cwd: bytes | None = None  # relative to tmp_path; None: the git repo
    close_stdin: bool = False
    setup: Callable[[Path, Path], None] | None = None  # (tmp_path, CODEX_HOME)


CASES = {
    "missing -C directory": Case(("exec", "-C", "{tmp}/missing", "hi"), 2, "does not exist"),
    "bad -c value": Case(
        ("exec", "-c", "model_reasoning_effort=[", "hi"), 2, "model_reasoning_effort"
    ),
    "-c value not UTF-8": Case(("exec", "-c", b"model=\xff", "hi"), 1, "offset 6"),
    "resume of an unknown id": Case(("exec", "resume", "no-such-id", "hi"), 1, "no-such-id"),
    "resume --last with no sessions": Case(("exec", "resume", "--last", "hi"), 1, "no recorded"),
    "fork of an unknown id": Case(("exec", "fork", "no-such-id", "hi"), 1, "no-such-id"),
    "CODEX_HOME is a file": Case(("exec", "hi"), 2, "Not a directory", home="plain-file"),
    "sessions is a file": Case(("exec", "hi"), 1, "rollout", home="home-with-sessions-file"),
    "working directory not UTF-8": Case(
        ("exec", "--skip-git-repo-check", "hi"), 1, "not valid UTF-8", cwd=b"\xe9t\xe9"
    ),
    "stdin closed": Case(("exec",), 2, "stdin is closed", close_stdin=True),
    "emulator port out of range": Case(("emulator", "--port", "99999"), 2, "99999"),
    "unknown profile": Case(("exec", "--profile", "nope", "hi"), 2, "nope"),
    "-C symlink loop": Case(("exec", "-C", "{tmp}/loop-a", "hi"), 2, "loop-a", setup=_symlink_loop),
    "config nested too deeply": Case(
        ("exec", "hi"), 2, "nested too deeply", setup=_deeply_nested_config
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_user_input_errors_are_one_line_without_a_traceback(
    emulator: ResponsesEmulator, codex_home: Path, repo: Path, tmp_path: Path, case: Case
) -> None:
    home = codex_home
    if case.home == "plain-file":
        home = tmp_path / "plain-file"
        home.write_text("not a directory\n")
    elif case.home == "home-with-sessions-file":
        (codex_home / "sessions").write_text("not a directory\n")
    if case.setup is not None:
        case.setup(tmp_path, codex_home)
    cwd: Path | bytes = repo
    if case.cwd is not None:
        cwd = os.fsencode(tmp_path) + b"/" + case.cwd
        os.mkdir(cwd)
    args = [a.replace("{tmp}", str(tmp_path)) if isinstance(a, str) else a for a in case.args]
    if args[0] == "exec":
        args[1:1] = emulator_flags(emulator.base_url)
    result = await run_raw(*args, home=home, cwd=cwd, close_stdin=case.close_stdin)
    assert result.code == case.code, result.stderr
    assert case.needle in the_error(result)
    assert result.stdout == ""

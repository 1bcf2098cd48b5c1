"""Which commands run without a sandbox or an approval."""

from __future__ import annotations

import pytest

from codex_engine.core.tools.safety import is_known_safe_command


@pytest.mark.parametrize(
    "command",
    [
        ["ls", "-la"],
        ["bash", "-lc", "ls -la"],
        ["bash", "-lc", "git status && git log --oneline | head -5"],
        ["cat", "README.md"],
        ["rg", "TODO", "src"],
        ["find", ".", "-name", "*.py"],
        ["sed", "-n", "1,20p", "file.txt"],
    ],
)
def test_read_only_commands_are_safe(command: list[str]) -> None:
    assert is_known_safe_command(command)


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["rm", "-rf", "x"],
        ["touch", "x"],
        ["bash", "-lc", "echo hi > file"],
        ["bash", "-lc", "ls; rm -rf /"],
        ["bash", "-lc", "cat $(whoami)"],
        ["bash", "-lc", "ls `rm x`"],
        ["bash", "-lc", "ls &"],
        ["find", ".", "-delete"],
        ["find", ".", "-exec", "rm", "{}", ";"],
        ["git", "push"],
        ["git"],
        ["rg", "--pre", "sh", "x"],
        ["sed", "-i", "s/a/b/", "f"],
        ["python", "-c", "print(1)"],
        ["bash", "-lc", "echo 'unterminated"],
    ],
)
def test_commands_that_may_write_are_not_safe(command: list[str]) -> None:
    assert not is_known_safe_command(command)

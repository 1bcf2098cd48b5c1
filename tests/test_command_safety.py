"""Which commands run without a sandbox or an approval."""

from __future__ import annotations

import re
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_engine.core.tools.safety import is_known_safe_command
from codex_engine.core.tools.shell_script import parse_simple_commands, split_shell_script


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


# --- the corpus ------------------------------------------------------------------------------
# `{out}` is a file the command would write, `{file}` one it reads; the property tests vary both.

UNSAFE: list[list[str]] = [
    # The holes of issue 10, each of which ran unconfined under `-s read-only`.
    ["sed", "-n", "e touch {out};p", "{file}"],
    ["sed", "-n", "1p", "-i", "{file}"],
    ["sed", "-n", "w {out}"],
    ["find", ".", "-fprintf", "{out}", "%p"],
    ["sort", "-o", "{out}", "{file}"],
    ["uniq", "{file}", "{out}"],
    ["git", "log", "--output={out}"],
    ["git", "branch", "evil"],
    ["git", "branch", "-D", "keep"],
    # The reference's own table of unsafe commands (codex-rs command_safety tests).
    ["find", ".", "-name", "file.txt", "-exec", "rm", "{}", ";"],
    ["find", ".", "-name", "*.py", "-execdir", "python3", "{}", ";"],
    ["find", ".", "-name", "file.txt", "-ok", "rm", "{}", ";"],
    ["find", ".", "-name", "*.py", "-okdir", "python3", "{}", ";"],
    ["find", ".", "-delete", "-name", "file.txt"],
    ["find", ".", "-fls", "{out}"],
    ["find", ".", "-fprint", "{out}"],
    ["find", ".", "-fprint0", "{out}"],
    ["find", ".", "-fprintf", "{out}", "%#m %u %p\n"],
    ["base64", "-o", "{out}"],
    ["base64", "--output", "{out}"],
    ["base64", "--output={out}"],
    ["base64", "-o{out}"],
    ["rg", "--search-zip", "files"],
    ["rg", "-z", "files"],
    ["rg", "--pre", "pwned", "files"],
    ["rg", "--pre=pwned", "files"],
    ["rg", "--hostname-bin", "pwned", "files"],
    ["rg", "--hostname-bin=pwned", "files"],
    ["git", "branch", "-d", "feature"],
    ["git", "branch", "new-branch"],
    ["git", "-C", ".", "branch", "-d", "feature"],
    ["git", "checkout", "status"],
    ["git", "log", "--output={out}", "-n", "1"],
    ["git", "diff", "--output", "{out}"],
    ["git", "show", "--output={out}", "HEAD"],
    ["git", "-c", "core.pager=cat", "log", "-n", "1"],
    ["git", "-ccore.pager=cat", "status"],
    ["git", "fetch"],
    ["sed", "-n", "xp", "{file}"],
    ["cargo", "check"],
    # sed: in-place editing in every spelling, and scripts that write or run.
    ["sed", "-ni", "1p", "{file}"],
    ["sed", "-n", "-i.bak", "1p", "{file}"],
    ["sed", "-n", "1p", "--in-place", "{file}"],
    ["sed", "-n", "1p", "--in-place=.bak", "{file}"],
    ["sed", "-n", "1p", "--in-pl", "{file}"],
    ["sed", "-n", "1p", "{file}", "-i"],
    ["sed", "-n", "1p", "-s", "-i", "{file}"],
    ["sed", "-n", "--expression=1w {out}", "{file}"],
    ["sed", "-n", "-e", "1p", "-e", "w {out}", "{file}"],
    ["sed", "-n", "W {out}", "{file}"],
    ["sed", "-n", "1w {out}", "{file}"],
    ["sed", "-n", "1e touch {out}", "{file}"],
    ["sed", "-n", "s/a/b/w {out}", "{file}"],
    ["sed", "-n", "s/a/b/e", "{file}"],
    ["sed", "-n", "1p;w {out}", "{file}"],
    ["sed", "-n", "1,5p\nw {out}", "{file}"],
    ["sed", "--quiet", "-i", "1p", "{file}"],
    ["sed", "s/a/b/", "-i", "{file}"],
    # find: every action that runs, deletes or writes.
    ["find", ".", "-fprint0", "{out}"],
    ["find", ".", "-name", "x", "-fprintf", "{out}", "%p"],
    ["find", ".", "-execdir", "sh", "-c", "touch {out}", ";"],
    ["find", ".", "-exec", "touch", "{out}", "+"],
    ["find", ".", "-okdir", "rm", "{}", ";"],
    # sort and uniq.
    ["sort", "--output={out}", "{file}"],
    ["sort", "--output", "{out}", "{file}"],
    ["sort", "--outp={out}", "{file}"],
    ["sort", "-uo", "{out}", "{file}"],
    ["sort", "-nro{out}", "{file}"],
    ["sort", "{file}", "-o", "{out}"],
    ["sort", "--compress-program=sh", "{file}"],
    ["sort", "--compress=sh", "{file}"],
    ["sort", "-T", "{out}", "{file}"],
    ["uniq", "-c", "{file}", "{out}"],
    ["uniq", "{file}", "{out}", "-c"],
    ["uniq", "-f", "1", "{file}", "{out}"],
    ["uniq", "-f1", "{file}", "{out}"],
    ["uniq", "--skip-fields", "1", "{file}", "{out}"],
    ["uniq", "--skip-f=1", "{file}", "{out}"],
    ["uniq", "--", "{file}", "{out}"],
    ["uniq", "--bogus", "{file}"],
    # rg in clusters and abbreviations.
    ["rg", "-iz", "pattern"],
    ["rg", "--pre", "sh", "-n", "pattern"],
    ["rg", "--search-z", "pattern"],
    # git: configuration that runs programs, writing options, branch changes.
    ["git", "-c", "core.fsmonitor=touch {out}", "status"],
    ["git", "-c", "alias.log=!touch {out}", "log"],
    ["git", "-c", "core.pager=touch {out}", "-p", "log"],
    ["git", "--config-env=core.pager=PAGER", "log"],
    ["git", "--config-env", "core.pager=PAGER", "log"],
    ["git", "--exec-path=/tmp", "status"],
    ["git", "--git-dir=/tmp/evil.git", "status"],
    ["git", "--work-tree=/", "status"],
    ["git", "-p", "log"],
    ["git", "--paginate", "log"],
    ["git", "--no-pager", "-c", "diff.external=sh", "diff"],
    ["git", "diff", "--output={out}"],
    ["git", "show", "--output", "{out}"],
    ["git", "log", "--outp={out}"],
    ["git", "diff", "--ext-diff"],
    ["git", "show", "--textconv", "HEAD"],
    ["git", "branch", "-m", "keep", "renamed"],
    ["git", "branch", "-c", "keep", "copy"],
    ["git", "branch", "--delete", "keep"],
    ["git", "branch", "--move", "keep", "renamed"],
    ["git", "branch", "-u", "origin/main"],
    ["git", "branch", "--set-upstream-to=origin/main"],
    ["git", "branch", "-f", "keep", "HEAD"],
    ["git", "branch", "--edit-description"],
    ["git", "branch", "-l", "evil"],
    ["git", "branch", "-vD", "keep"],
    ["git", "branch", "--", "evil"],
    ["git", "commit", "-m", "x"],
    ["git", "stash"],
    ["git", "grep", "-O", "x"],
    ["git", "log", "--show-signature"],
    ["git", "-C", "sub", "status"],
    ["git", "-C", "fixtures/evil.git", "log"],
    # The `date` that sets the clock; programs named by a path outside the system's.
    ["date", "-s", "2000-01-01"],
    ["./cat", "{file}"],
    ["bin/ls"],
]

# Shell syntax that is not proven harmless, whatever the commands in it.
UNSAFE_SCRIPTS: list[str] = [
    "ls > {out}",
    "ls >> {out}",
    "ls 2>{out}",
    "ls &> {out}",
    "ls >| {out}",
    "cat < {file}",
    "echo $(touch {out})",
    "echo `touch {out}`",
    'cat "$(touch {out})"',
    "cat <(touch {out})",
    "(touch {out})",
    "(ls)",
    "ls || (pwd && echo hi)",
    "{ touch {out}; }",
    "ls & touch {out}",
    "ls &",
    "ls\ntouch {out}",
    "ls\\\ntouch {out}",
    "X=1 ls",
    "PAGER='touch {out}' git log",
    "ls | tee {out}",
    "echo touch {out} | sh",
    "ls; touch {out}",
    "ls || touch {out}",
    "ls |& tee {out}",
    "echo ${x:=y}",
    "echo $HOME",
    "echo {a,b}",
    "! touch {out}",
    "exec > {out}",
    "ls # comment",
    "ls && rm -rf /",
    "find . -name file.txt -delete",
    "'git status'",
    "ls &&",
    "&& ls",
    "ls ;; pwd",
    "ls | | wc",
    "sed -n 1p *",
    "sed -n 1p {-i,{file}}",
    "sort *",
    "uniq *",
    "find * -name x",
    "git diff *",
    "rg pattern *",
    "sed -n 1p ~",
    # git away from the workspace's own directory may find a checked-in bare repository.
    "cd fixtures/evil.git && git status",
    "cd . ; git log",
    "git -C fixtures/evil.git status",
]

SAFE: list[list[str]] = [
    ["ls"],
    ["ls", "-la"],
    ["pwd"],
    ["cat", "{file}"],
    ["head", "-n", "5", "{file}"],
    ["wc", "-l", "{file}"],
    ["grep", "-R", "Cargo.toml", "-n"],
    ["base64"],
    ["base64", "{file}"],
    ["nl", "-nrz", "{file}"],
    ["numfmt", "1000"],
    ["tac", "{file}"],
    ["sed", "-n", "1,5p", "{file}"],
    ["sed", "-n", "10p", "{file}"],
    ["sed", "-n", "$p", "{file}"],
    ["sed", "-n", "3,$p", "{file}", "{file}"],
    ["sed", "-n", "1p", "--", "{file}"],
    ["find", ".", "-name", "file.txt"],
    ["find", ".", "-type", "f", "-name", "*.py", "-print"],
    ["sort", "{file}"],
    ["sort", "-k2", "-n", "-r", "{file}"],
    ["sort", "-t", ",", "-k", "1,1", "{file}"],
    ["uniq", "{file}"],
    ["uniq", "-c", "{file}"],
    ["uniq", "-f", "2", "{file}"],
    ["uniq", "--skip-fields", "2", "{file}"],
    ["uniq", "-d"],
    ["rg", "TODO", "src"],
    ["rg", "-n", "-g", "*.py", "pattern"],
    ["rg", "--pretty", "pattern"],
    ["git", "status"],
    ["git", "status", "--porcelain"],
    ["git", "log", "-p", "-1"],
    ["git", "log", "--oneline", "-n", "5"],
    ["git", "diff", "-p"],
    ["git", "diff", "--stat", "HEAD~1"],
    ["git", "diff", "--text"],
    ["git", "show", "-p", "HEAD"],
    ["git", "rev-parse", "HEAD"],
    ["git", "ls-files"],
    ["git", "branch"],
    ["git", "branch", "--show-current"],
    ["git", "branch", "-a", "-vv"],
    ["git", "branch", "-avv"],
    ["git", "branch", "--list", "feat*"],
    ["git", "branch", "--format=%(refname)"],
    ["git", "-C", ".", "branch", "--show-current"],
    ["git", "-C", ".", "status"],
    ["git", "--no-pager", "log", "-1"],
    ["git", "-P", "diff"],
    ["date"],
    ["date", "+%Y"],
    ["/usr/bin/cat", "{file}"],
    ["/bin/ls"],
    ["echo", "hi there"],
]

SAFE_SCRIPTS: list[str] = [
    "ls",
    "ls -1",
    'grep -R "Cargo.toml" -n',
    "sed -n 1,5p file.txt",
    "sed -n '1,5p' file.txt",
    "find . -name file.txt",
    'grep -R "Cargo.toml" -n || true',
    "ls && pwd",
    "echo 'hi' ; ls",
    "ls | wc -l",
    "cat *.py | head",
    "ls ~",
    'rg -n "foo" -g"*.py"',
    "git status && git log --oneline | head -5",
]


def fill(word: str, out: str, file: str) -> str:
    return word.replace("{out}", out).replace("{file}", file)


BARE = re.compile(r"[A-Za-z0-9_./,:%+@-][A-Za-z0-9_./,:%+=@-]*")


def quote(word: str, style: int) -> str:
    """Put ``word`` into a script in one of several spellings that bash reads back as ``word``."""
    if style == 0 and BARE.fullmatch(word):
        return word
    if style == 1 and "'" not in word:
        return f"'{word}'"
    if style == 2:
        return '"' + re.sub(r'([\\"$`])', r"\\\1", word) + '"'
    if style == 3 and word:
        return "".join(f"\\{ch}" for ch in word)
    if "'" not in word:
        return f"'{word}'"
    return '"' + re.sub(r'([\\"$`])', r"\\\1", word) + '"'


# File names a test fills in: never option-like, never `-` (stdin/stdout), quotes allowed.
names = st.text(alphabet=st.sampled_from("abcXYZ019._/ '\"$"), min_size=1, max_size=12).filter(
    lambda s: not s.startswith("-")
)
shells = st.sampled_from([["bash", "-lc"], ["bash", "-c"], ["sh", "-c"], ["zsh", "-lc"]])
shells = shells | st.just(["/bin/bash", "-lc"])
joiners = st.sampled_from(["&&", "||", ";", "|"])
styles = st.lists(st.integers(0, 3), min_size=40, max_size=40)


def script_of(argv: list[str], quoting: list[int]) -> str:
    return " ".join(quote(word, quoting[i % len(quoting)]) for i, word in enumerate(argv))


def test_the_corpus_quotes_back_to_the_same_words() -> None:
    # The test harness's own check: each spelling is read back by our splitter unchanged.
    for argv in UNSAFE + SAFE:
        words = [fill(w, "o u't", 'f"$x') for w in argv]
        if not all(w.isprintable() for w in words):
            continue  # a newline is refused in any spelling
        for style in range(4):
            assert split_shell_script(script_of(words, [style])) == [words]


# Each example draws one way of writing things (file names, shell, quoting, a neighbouring
# command and how it is joined) and applies it to the whole corpus, so every entry is tried in
# many spellings without paying hypothesis's overhead per entry.
@settings(max_examples=60, deadline=None)
@given(
    out=names,
    file=names,
    shell=shells,
    quoting=styles,
    neighbour=st.sampled_from(SAFE),
    joiner=joiners,
    before=st.booleans(),
)
def test_a_command_that_may_write_or_run_is_never_auto_approved(
    out: str,
    file: str,
    shell: list[str],
    quoting: list[int],
    neighbour: list[str],
    joiner: str,
    before: bool,
) -> None:
    other = script_of([fill(w, "x", "f") for w in neighbour], quoting)
    for command in UNSAFE:
        argv = [fill(w, out, file) for w in command]
        assert not is_known_safe_command(argv), argv
        script = script_of(argv, quoting)
        assert not is_known_safe_command([*shell, script]), script
        joined = f"{other} {joiner} {script}" if before else f"{script} {joiner} {other}"
        assert not is_known_safe_command([*shell, joined]), joined


bare_names = names.filter(lambda s: BARE.fullmatch(s) is not None)


@settings(max_examples=50, deadline=None)
@given(
    out=bare_names,
    file=bare_names,
    shell=shells,
    neighbour=st.sampled_from(SAFE_SCRIPTS),
    joiner=joiners,
)
def test_shell_syntax_that_may_write_or_run_is_never_auto_approved(
    out: str, file: str, shell: list[str], neighbour: str, joiner: str
) -> None:
    for script in UNSAFE_SCRIPTS:
        filled = fill(script, out, file)
        assert not is_known_safe_command([*shell, filled]), filled
        assert not is_known_safe_command([*shell, f"{neighbour} {joiner} {filled}"]), filled


@settings(max_examples=50, deadline=None)
@given(
    file=names,
    shell=shells,
    quoting=styles,
    neighbour=st.sampled_from(SAFE_SCRIPTS),
    joiner=joiners,
)
def test_plain_reads_stay_approved(
    file: str, shell: list[str], quoting: list[int], neighbour: str, joiner: str
) -> None:
    for command in SAFE:
        argv = [fill(w, "unused", file) for w in command]
        assert is_known_safe_command(argv), argv
        script = script_of(argv, quoting)
        assert is_known_safe_command([*shell, script]), script
        assert is_known_safe_command([*shell, f"{neighbour} {joiner} {script}"]), script


@pytest.mark.parametrize("script", SAFE_SCRIPTS)
def test_reference_safe_scripts_are_approved(script: str) -> None:
    assert is_known_safe_command(["bash", "-lc", script])


def test_git_is_safe_only_in_the_workspace_directory() -> None:
    assert is_known_safe_command(["git", "status"])
    assert not is_known_safe_command(["git", "status"], at_workspace_root=False)
    assert not is_known_safe_command(["bash", "-lc", "git log -1"], at_workspace_root=False)
    # Reads other than git do not depend on where they run.
    assert is_known_safe_command(["bash", "-lc", "cd src && ls | wc -l"], at_workspace_root=False)
    assert is_known_safe_command(["bash", "-lc", "git status && cd src && ls"])
    assert not is_known_safe_command(["bash", "-lc", "cd src && git status"])


def test_only_the_three_word_shell_form_is_read_as_a_script() -> None:
    assert not is_known_safe_command(["bash", "-lc", "git", "status"])
    assert not is_known_safe_command(["bash", "-x", "ls"])
    assert not is_known_safe_command(["python3", "-c", "ls"])
    assert not is_known_safe_command(["./bash", "-lc", "ls"])


def test_split_shell_script_returns_the_words_of_each_command() -> None:
    assert split_shell_script("ls && pwd; echo 'hi there' | wc -l") == [
        ["ls"],
        ["pwd"],
        ["echo", "hi there"],
        ["wc", "-l"],
    ]
    assert split_shell_script(r"""echo "/usr"'/'"local"/bin a\ b "q\"\$" 'x\y'""") == [
        ["echo", "/usr/local/bin", "a b", 'q"$', "x\\y"]
    ]
    assert split_shell_script("FOO=bar ls") == [["FOO=bar", "ls"]]
    assert split_shell_script("") is None
    assert split_shell_script("ls > x") is None


# --- the splitter against bash itself -------------------------------------------------------

# Mostly words and quoting, with a sprinkle of everything the splitter must refuse.
SCRIPT_PIECES = st.sampled_from(
    ["a", "b-c", " ", " ", "'", '"', "\\", "'a b'", '"a b"', '"\\\\"', '"\\$"', '"\\a"', "\\ ",
     "=", "!", "#", "~", "*", "\t", "$", "|", "&", ";", ">", "(", "{", "\n", "\\\n", "é"]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(script=st.lists(SCRIPT_PIECES, max_size=12).map("".join))
def test_accepted_words_are_the_words_bash_passes(
    script: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    commands = parse_simple_commands(script)
    if commands is None or len(commands) != 1:
        return
    words = commands[0]
    if any(word.expands for word in words):
        return
    # printf with each word as an argument shows exactly what bash made of them.
    empty = tmp_path_factory.mktemp("printf")
    run = subprocess.run(
        ["bash", "-c", "printf '%s\\0' " + script],
        cwd=empty,
        capture_output=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.decode().split("\0")[:-1] == [word.text for word in words]


def test_words_that_the_shell_expands_are_marked() -> None:
    commands = parse_simple_commands("cat *.py a?c [ab] ~ ~/x a=~/x HEAD~1 HEAD^ =ls 'q*' \\*")
    assert commands is not None
    marks = {word.text: word.expands for word in commands[0]}
    assert marks == {
        "cat": False,
        "*.py": True,
        "a?c": True,
        "[ab]": True,
        "~": True,
        "~/x": True,
        "a=~/x": True,
        "HEAD~1": False,
        "HEAD^": False,
        "=ls": False,
        "q*": False,
        "*": False,
    }
    zsh = parse_simple_commands("cat HEAD^ a~b =ls a#b", zsh=True)
    assert zsh is not None
    assert [word.expands for word in zsh[0]] == [False, True, True, True, True]


def test_common_git_revisions_stay_approved_in_bash_but_not_in_zsh() -> None:
    script = "git diff HEAD~1 && git show HEAD^ --stat"
    assert is_known_safe_command(["bash", "-lc", script])
    assert not is_known_safe_command(["zsh", "-lc", script])

"""What an entry point imports, for the import-budget tests: a driver that runs the CLI and
writes ``sys.modules`` at exit, and the check of a module set against allow-lists."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Collection
from dataclasses import dataclass

#: Runs the CLI in this interpreter and writes ``sys.modules`` at exit, whatever the exit path.
DRIVER = """
import atexit, sys
out = sys.argv.pop(1)
def dump():
    with open(out, "w") as f:
        f.write("\\n".join(sorted(sys.modules)))
atexit.register(dump)
sys.argv[0] = "codex-engine"
from codex_engine.cli.main import main
main()
"""


def bare_interpreter_modules() -> set[str]:
    """What a bare interpreter has loaded before any import of ours."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(done.stdout.split())


#: Entries the CLI puts in ``sys.modules`` itself (cli/__init__.py), not imports: httpx's
#: command-line client loaded on call, and pydantic's plugin loader (pydantic comes only with the
#: paths that still use it, such as MCP servers).
STAND_INS = frozenset({"httpx._main", "pydantic.plugin._loader"})


def _under(name: str, prefixes: Collection[str]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


@dataclass(frozen=True)
class Budget:
    """Our modules may all load except ``own_not``; the standard library except
    ``stdlib_not``; third-party packages only when listed in ``third_party``."""

    own_not: tuple[str, ...]
    stdlib_not: tuple[str, ...]
    third_party: Collection[str]

    def disallowed(self, modules: set[str], *, also: Collection[str] = ()) -> list[str]:
        """The modules outside the allow-lists (``also``: more modules allowed, with their
        submodules)."""
        problems = []
        for name in sorted(modules):
            top = name.split(".")[0]
            if _under(name, also) or name in STAND_INS:
                continue
            if top == "codex_engine":
                if _under(name, self.own_not):
                    problems.append(name)
            elif top in sys.stdlib_module_names or top.startswith("_sysconfigdata_"):
                if _under(name, self.stdlib_not):
                    problems.append(name)
            elif top not in self.third_party:
                problems.append(name)
        return problems

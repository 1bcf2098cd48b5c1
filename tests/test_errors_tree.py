"""One exception tree: every error class lives in ``codex_engine.errors``, drawn in its docstring.

The test imports every module of the package, so an exception class defined anywhere else (or
left out of the drawing, or drawn under the wrong parent) fails here, naming the class.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from types import ModuleType

import pytest

import codex_engine
from codex_engine import errors

SRC = Path(codex_engine.__file__).parent

#: Exceptions that may live outside the tree: private signals that never reach a caller. Each
#: names why, and the only modules allowed to mention it (where it is raised and caught), so it
#: cannot start escaping unnoticed.
OUTSIDE_THE_TREE: dict[str, tuple[str, frozenset[str]]] = {
    "codex_engine.core.git_info._GitMissing": (
        "no git executable: collect_git_info reads every git task's exception itself and "
        "returns None (the git context is left out); it is never re-raised",
        frozenset({"core/git_info.py"}),
    ),
    "codex_engine.core.tools.shell_script._Refused": (
        "the tokenizer's 'not provably harmless'; parse_simple_commands turns it into None",
        frozenset({"core/tools/shell_script.py"}),
    ),
    "codex_engine.app_server.pagination.CursorError": (
        "a pure pagination function's bad cursor; each handler that pages answers it as "
        "InvalidParamsError (-32600, as the reference answers bad params)",
        frozenset(
            {
                "app_server/pagination.py",
                "app_server/history.py",
                "app_server/handlers/threads.py",
                "app_server/handlers/thread_admin.py",
                "app_server/handlers/config.py",
                "app_server/handlers/models.py",
                "app_server/handlers/thread_history.py",
            }
        ),
    ),
    "codex_engine.emulator.oauth.TokenRefusedError": (
        "the emulator's OAuth issuer refusing a grant; its HTTP handler answers 400/401 with it. "
        "The emulator is the API's double, not the engine, and the engine never imports it",
        frozenset({"emulator/oauth.py", "emulator/oauth_http.py"}),
    ),
}

#: Where the classes that moved into the tree were defined before; those imports keep working.
OLD_HOMES = [
    ("codex_engine.protocol.jsonrpc", "JsonRpcError"),
    ("codex_engine.core.rollout", "RolloutError"),
    ("codex_engine.core.launch", "ThreadNotFoundError"),
    ("codex_engine.transport.websocket", "FallbackToHttpError"),
    ("codex_engine.app_server.connection", "ConnectionClosedError"),
    ("codex_engine.app_server", "ConnectionClosedError"),
    ("codex_engine.auth.refresh", "RefreshRejectedError"),
    ("codex_engine.auth.refresh", "RefreshUnavailableError"),
    ("codex_engine.auth.refresh", "RefreshFailure"),
    ("codex_engine.auth", "RefreshRejectedError"),
    ("codex_engine.cli.inputs", "InputError"),
    ("codex_engine.app_server.registry", "InvalidParamsError"),
    ("codex_engine.app_server.registry", "NotSupportedError"),
    ("codex_engine.config.edit", "ConfigEditError"),
    ("codex_engine.mcp.errors", "McpCallError"),
    ("codex_engine.mcp.errors", "McpStartupError"),
    ("codex_engine.mcp", "McpCallError"),
    ("codex_engine.core.tools.unified_exec", "ProcessStartError"),
]


def _all_modules() -> list[ModuleType]:
    modules = [codex_engine]
    for info in pkgutil.walk_packages(codex_engine.__path__, "codex_engine."):
        if info.name.rsplit(".", 1)[-1] == "__main__":  # runs the CLI when imported
            continue
        modules.append(importlib.import_module(info.name))
    return modules


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def _package_exceptions() -> set[type[BaseException]]:
    """Every exception class the package defines: module-level ones found by walking each module,
    and any other (a class defined in a function) found through the subclass links."""
    found: set[type[BaseException]] = set()
    for module in _all_modules():
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, BaseException):
                found.add(value)
    found |= _subclasses(BaseException)
    return {cls for cls in found if cls.__module__.split(".")[0] == "codex_engine"}


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _drawn_tree() -> dict[str, str]:
    """Class name -> the parent it is drawn under in the docstring of ``codex_engine.errors``."""
    doc = errors.__doc__ or ""
    parents: dict[str, str] = {}
    path: list[str] = []
    for line in doc.splitlines():
        root = re.fullmatch(r"([A-Z]\w*)", line)
        branch = re.match(r"((?:│   |    )*)(?:├── |└── )(\w+)", line)
        if root:
            path = [root.group(1)]
        elif branch and path:
            depth = len(branch.group(1)) // 4 + 1
            name = branch.group(2)
            assert depth <= len(path), f"{name} is drawn deeper than its parent: {line!r}"
            parents[name] = path[depth - 1]
            path = [*path[:depth], name]
    return parents


def test_every_exception_class_is_defined_in_errors() -> None:
    outside = {
        _qualified(cls)
        for cls in _package_exceptions()
        if cls.__module__ != "codex_engine.errors" and _qualified(cls) not in OUTSIDE_THE_TREE
    }
    assert not outside, (
        f"define these in codex_engine/errors.py (re-export them where they were): {outside}"
    )


def test_the_allow_list_names_only_classes_that_exist() -> None:
    qualified = {_qualified(cls) for cls in _package_exceptions()}
    assert set(OUTSIDE_THE_TREE) <= qualified, set(OUTSIDE_THE_TREE) - qualified


@pytest.mark.parametrize("qualified", sorted(OUTSIDE_THE_TREE))
def test_an_exception_outside_the_tree_stays_where_it_is_caught(qualified: str) -> None:
    name = qualified.rsplit(".", 1)[-1]
    _reason, allowed = OUTSIDE_THE_TREE[qualified]
    mentioned = {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if path != SRC / "errors.py" and re.search(rf"\b{name}\b", path.read_text(encoding="utf-8"))
    }
    assert mentioned == allowed, f"{name} is mentioned in {sorted(mentioned - allowed)}"
    # ... and the errors module lists it, so the whole picture is in one place.
    assert name in (errors.__doc__ or "")


def test_every_error_class_is_drawn_under_its_parent() -> None:
    drawn = _drawn_tree()
    defined = {
        cls
        for cls in vars(errors).values()
        if inspect.isclass(cls)
        and issubclass(cls, BaseException)
        and cls.__module__ == "codex_engine.errors"
    }
    assert {cls.__name__ for cls in defined} == set(drawn), (
        "the tree in errors.py's docstring and the classes defined there differ"
    )
    for cls in defined:
        (base,) = cls.__bases__
        assert drawn[cls.__name__] == base.__name__, (
            f"{cls.__name__} derives from {base.__name__} but is drawn under {drawn[cls.__name__]}"
        )


def test_every_drawn_class_says_when_it_is_raised() -> None:
    doc = errors.__doc__ or ""
    for name in _drawn_tree():
        (line,) = [line for line in doc.splitlines() if re.search(rf"── {name}\b", line)]
        assert line.split(name, 1)[1].strip(), f"{name} has no 'raised when' in the tree"


def test_every_codex_error_is_exported_from_the_package() -> None:
    _all_modules()  # so that every subclass is defined
    for cls in _subclasses(errors.CodexError) | {errors.CodexError}:
        assert cls.__name__ in codex_engine.__all__, cls.__name__
        assert getattr(codex_engine, cls.__name__) is cls, cls.__name__


@pytest.mark.parametrize(("module", "name"), OLD_HOMES)
def test_a_moved_error_still_imports_from_its_old_module(module: str, name: str) -> None:
    assert getattr(importlib.import_module(module), name) is getattr(errors, name)


def test_app_server_errors_answer_with_the_same_codes_after_the_move() -> None:
    from codex_engine.app_server.registry import InvalidRequestError, to_jsonrpc

    assert InvalidRequestError is errors.InvalidRpcRequestError
    assert to_jsonrpc("thread/read", errors.InvalidRpcRequestError("no such thread")).code == -32600
    # As the reference answers (the SDK raises InvalidRequestError for them): bad params and
    # unsupported methods answer -32600, a failed request -32603.
    assert to_jsonrpc("thread/read", errors.InvalidParamsError("bad")).code == -32600
    assert to_jsonrpc("turn/steer", errors.NotSupportedError("no")).code == -32600
    # The Responses API's InvalidRequestError is a different class with a different answer.
    api = errors.InvalidRequestError("bad request", status=400)
    assert to_jsonrpc("turn/start", api).code == -32603

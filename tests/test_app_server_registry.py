"""The method registry: declaration, params validation, and the error -> JSON-RPC code table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal

import msgspec
import pytest

from codex_engine.app_server import handlers  # (fills REGISTRY)
from codex_engine.app_server.handlers import gaps
from codex_engine.app_server.registry import (
    REGISTRY,
    InvalidParamsError,
    InvalidRequestError,
    NotSupportedError,
    Registry,
    Tagged,
    parse_params,
    to_jsonrpc,
)
from codex_engine.errors import AuthError, CodexError, ConfigError, SessionLockedError
from codex_engine.protocol.jsonrpc import JsonRpcError

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference" / "app-server-schema"


class _Strict(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    pass


class Inner(_Strict, frozen=True, kw_only=True):
    item_count: int


class KeyLogin(_Strict, frozen=True, kw_only=True, tag_field="type", tag="apiKey"):
    api_key: str


class DeviceLogin(_Strict, frozen=True, kw_only=True, tag_field="type", tag="device"):
    pass


class Sample(_Strict, frozen=True, kw_only=True):
    thread_id: str
    inner: Inner | None = None
    tags: list[str] = []
    policy: Literal["never", "on-request"] | dict[str, Any] | None = None
    limit: Annotated[int, msgspec.Meta(ge=0)] | None = None
    env: dict[str, str] | None = None
    login: KeyLogin | DeviceLogin | None = None


LOGIN = Tagged[_Strict]("type", {"apiKey": KeyLogin, "device": DeviceLogin})


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([1], "expected an object"),
        ("x", "expected an object"),
        ({}, "`threadId` is required"),
        ({"threadId": 3}, "`threadId` should be a valid string"),
        ({"threadId": "t", "inner": {}}, "`inner.itemCount` is required"),
        ({"threadId": "t", "tags": ["a", 2]}, "`tags.1` should be a valid string"),
        # A value outside a literal's choices is never quoted back: it may be a secret.
        (
            {"threadId": "t", "policy": "sk-secret"},
            "`policy` should be 'never', 'on-request', an object or null",
        ),
        ({"threadId": "t", "limit": -1}, "`limit` should be a valid integer >= 0"),
        ({"threadId": "t", "inner": 5}, "`inner` should be an object or null"),
        # A map's key is never quoted back either.
        ({"threadId": "t", "env": {"sk-secret": 5}}, "`env.*` should be a valid string"),
        (
            {"threadId": "t", "login": {"type": "sk-secret"}},
            "`login.type` should be 'apiKey' or 'device'",
        ),
    ],
)
def test_params_errors_name_the_field_as_the_client_spelled_it(params: Any, message: str) -> None:
    with pytest.raises(InvalidParamsError) as caught:
        parse_params(Sample, params)
    assert str(caught.value) == message


def test_params_none_is_an_empty_object() -> None:
    with pytest.raises(InvalidParamsError, match="`threadId` is required"):
        parse_params(Sample, None)
    assert parse_params(Sample, {"threadId": "t"}).thread_id == "t"


def test_tagged_params_pick_the_model_by_tag_and_never_echo_a_value() -> None:
    assert isinstance(parse_params(LOGIN, {"type": "device"}), DeviceLogin)
    with pytest.raises(InvalidParamsError) as unknown:
        parse_params(LOGIN, {"type": "password"})
    assert str(unknown.value) == "`type` 'password' is not supported; use apiKey or device"
    secret = "sk-not-a-string-but-a-secret"
    with pytest.raises(InvalidParamsError) as wrong:
        parse_params(LOGIN, {"type": "apiKey", "apiKey": [secret]})
    assert "`apiKey`" in str(wrong.value) and secret not in str(wrong.value)


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (InvalidParamsError("`cwd` is wrong"), -32600, "invalid params for m/x: `cwd` is wrong"),
        (ConfigError("bad key"), -32600, "invalid params for m/x: bad key"),
        (InvalidRequestError("no such thread"), -32600, "no such thread"),
        (NotSupportedError("not yet"), -32600, "not yet"),
        (
            SessionLockedError("t1"),
            -32600,
            "m/x failed: session t1 is open in another process; wait for it to finish or fork "
            "it: codex-engine exec fork t1",
        ),
        (AuthError("sign in again"), -32603, "m/x failed: sign in again"),
        (CodexError("disk full"), -32603, "m/x failed: disk full"),
        (JsonRpcError(-32099, "as chosen"), -32099, "as chosen"),
    ],
)
def test_errors_map_to_jsonrpc_codes(error: CodexError, code: int, message: str) -> None:
    mapped = to_jsonrpc("m/x", error)
    assert (mapped.code, str(mapped)) == (code, message)


async def test_dispatch_validates_runs_and_maps_errors() -> None:
    registry = Registry()
    seen: list[Sample] = []

    @registry.method("m/ok", Sample)
    async def ok(ctx: Any, p: Sample, reply: Any) -> Any:
        seen.append(p)
        return {"id": p.thread_id}

    @registry.method("m/fail", Sample)
    async def fail(ctx: Any, p: Sample, reply: Any) -> Any:
        raise InvalidParamsError("`threadId` names nothing")

    @registry.method("hello", Sample, before_initialize=True)
    async def hello(ctx: Any, p: Sample, reply: Any) -> Any:
        return {}

    registry.pending("m/later", "waits for something")
    registry.unsupported("m/never", "by design")
    fresh: Any = SimpleNamespace(initialized=False)
    ready: Any = SimpleNamespace(initialized=True)

    assert await registry.dispatch(fresh, "hello", {"threadId": "t"}, None) == {}
    for name in ("m/ok", "no/such"):
        with pytest.raises(JsonRpcError) as early:
            await registry.dispatch(fresh, name, {}, None)
        assert early.value.code == -32600 and "before initialize" in str(early.value)

    assert await registry.dispatch(ready, "m/ok", {"threadId": "t"}, None) == {"id": "t"}
    assert [p.thread_id for p in seen] == ["t"]
    cases = [
        ("m/ok", {}, -32600, "invalid params for m/ok: `threadId` is required"),
        (
            "m/fail",
            {"threadId": "t"},
            -32600,
            "invalid params for m/fail: `threadId` names nothing",
        ),
        (
            "m/later",
            {},
            -32600,
            "m/later is not implemented yet in codex-engine (waits for something)",
        ),
        ("m/never", {}, -32600, "m/never is not supported by codex-engine (by design)"),
        ("no/such", {}, -32600, "unknown method 'no/such': it is not an app-server method"),
    ]
    for name, params, code, message in cases:
        with pytest.raises(JsonRpcError) as caught:
            await registry.dispatch(ready, name, params, None)
        assert (caught.value.code, str(caught.value)) == (code, message)
    assert len(seen) == 1


def test_a_method_is_declared_once() -> None:
    registry = Registry()

    @registry.method("m/one", Sample)
    async def one(ctx: Any, p: Sample, reply: Any) -> Any:
        return None

    with pytest.raises(ValueError, match="declared twice"):
        registry.method("m/one", Sample)(one)
    with pytest.raises(ValueError, match="declared twice"):
        registry.pending("m/one", "again")


async def test_implementing_a_pending_method_replaces_it_but_unsupported_ones_stay() -> None:
    registry = Registry()
    registry.pending("m/soon", "not yet")
    registry.unsupported("m/never", "by design")

    @registry.method("m/soon", Sample)
    async def soon(ctx: Any, p: Sample, reply: Any) -> Any:
        return {"served": p.thread_id}

    assert registry.pending_names == frozenset()
    ready: Any = SimpleNamespace(initialized=True)
    assert await registry.dispatch(ready, "m/soon", {"threadId": "t"}, None) == {"served": "t"}
    with pytest.raises(ValueError, match="declared twice"):
        registry.method("m/never", Sample)(soon)


IMPLEMENTED = {
    "initialize",
    "thread/start",
    "thread/resume",
    "thread/fork",
    "thread/list",
    "thread/read",
    "thread/archive",
    "thread/unarchive",
    "thread/name/set",
    "thread/compact/start",
    "turn/start",
    "turn/interrupt",
    "turn/steer",
    "model/list",
    "account/read",
    "account/login/start",
    "account/login/cancel",
    "account/logout",
    "account/rateLimits/read",
    "config/read",
    "config/value/write",
    "config/batchWrite",
    "configRequirements/read",
    "experimentalFeature/list",
    "experimentalFeature/enablement/set",
    "permissionProfile/list",
    "modelProvider/capabilities/read",
    "thread/loaded/list",
    "thread/unsubscribe",
    "thread/delete",
    "fs/readFile",
    "fs/writeFile",
    "fs/createDirectory",
    "fs/getMetadata",
    "fs/readDirectory",
    "fs/remove",
    "fs/copy",
    "fs/watch",
    "fs/unwatch",
    "fuzzyFileSearch",
    "mcpServerStatus/list",
    "mcpServer/tool/call",
    "mcpServer/resource/read",
    "command/exec",
    "thread/shellCommand",
    "command/exec/write",
    "command/exec/resize",
    "command/exec/terminate",
    "review/start",
    "config/mcpServer/reload",
    "thread/goal/set",
    "thread/goal/get",
    "thread/goal/clear",
    "thread/turns/list",
    "thread/items/list",
    "thread/inject_items",
    "thread/metadata/update",
    "thread/revert",
}


def test_the_handlers_declare_the_served_methods() -> None:
    assert REGISTRY.names == IMPLEMENTED
    # A gap that a family implements is served, not pending (handlers/gaps.py is imported first).
    assert REGISTRY.pending_names == set(gaps.PENDING) - IMPLEMENTED
    assert REGISTRY.unsupported_names == set(gaps.UNSUPPORTED)
    assert not REGISTRY.unsupported_names & REGISTRY.names


def test_the_family_table_names_the_module_that_declares_each_method() -> None:
    declared_in = {
        name: REGISTRY.spec(name).handler.__module__.rsplit(".", 1)[1] for name in REGISTRY.names
    }
    table = {name: family for family, names in handlers.FAMILIES.items() for name in names}
    assert table == declared_in
    modules = {path.stem for path in Path(handlers.__file__).parent.glob("*.py")}
    assert modules - {"__init__", "gaps"} == set(handlers.FAMILIES)


async def test_a_lazy_family_loads_on_its_first_call_and_replaces_its_pending_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = Registry()
    registry.pending("x/one", "waits for its family")
    registry.lazy("scratch_family", ["x/one", "x/two"])
    (tmp_path / "scratch_family.py").write_text(
        "from scratch_registry import REGISTRY\n"
        "from codex_engine.app_server.registry import NoParams\n"
        "@REGISTRY.method('x/one', NoParams)\n"
        "async def one(ctx, p, reply):\n"
        "    return 'one'\n"
        "@REGISTRY.method('x/two', NoParams)\n"
        "async def two(ctx, p, reply):\n"
        "    return 'two'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(sys.modules, "scratch_registry", SimpleNamespace(REGISTRY=registry))
    monkeypatch.delitem(sys.modules, "scratch_family", raising=False)
    ready: Any = SimpleNamespace(initialized=True)
    assert "scratch_family" not in sys.modules
    assert await registry.dispatch(ready, "x/one", {}, None) == "one"  # not "pending"
    assert "scratch_family" in sys.modules
    assert await registry.dispatch(ready, "x/two", {}, None) == "two"
    assert registry.pending_names == frozenset()
    assert registry.names == {"x/one", "x/two"}
    monkeypatch.delitem(sys.modules, "scratch_family")


def test_importing_the_handlers_loads_no_family_until_a_call() -> None:
    code = (
        "import sys\n"
        "from codex_engine.app_server import handlers\n"
        "from codex_engine.app_server.registry import REGISTRY\n"
        "loaded = lambda: sorted(f for f in handlers.FAMILIES if handlers.loaded(f))\n"
        "assert loaded() == [], loaded()\n"
        "assert REGISTRY.spec('model/list').name == 'model/list'\n"
        "assert loaded() == ['models'], loaded()\n"
        "assert 'codex_engine.core.session' not in sys.modules\n"
        "assert len(REGISTRY.names) > 50 and loaded() == sorted(handlers.FAMILIES)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(not SCHEMA_DIR.is_dir(), reason=f"reference schema not found at {SCHEMA_DIR}")
def test_every_declared_method_is_a_reference_method() -> None:
    reference: set[str] = set()
    for directory in (SCHEMA_DIR, SCHEMA_DIR.with_name("app-server-schema-experimental")):
        variants = json.loads((directory / "ClientRequest.json").read_text())["oneOf"]
        reference |= {v["properties"]["method"]["enum"][0] for v in variants}
    declared = REGISTRY.names | REGISTRY.pending_names | REGISTRY.unsupported_names
    assert declared - reference == set()

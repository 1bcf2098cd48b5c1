"""Every app-server method in one table: its params model, its handler, and how its errors answer.

A handler module declares a method once with ``@method("thread/start", ThreadStartParams)``;
:meth:`Registry.dispatch` validates the params, runs the handler and turns the errors it raises
into JSON-RPC errors (the table is :data:`ERROR_CODES`). Handlers never format error-code text.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from codex_engine.errors import (
    CodexError,
    ConfigError,
    InvalidParamsError,
    InvalidRpcRequestError,
    NotSupportedError,
    SessionLockedError,
)
from codex_engine.protocol.app_server.params import decode_params
from codex_engine.protocol.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_REQUEST,
    JsonRpcError,
)

if TYPE_CHECKING:
    from codex_engine.app_server.connection import Reply
    from codex_engine.app_server.context import ServerContext

__all__ = [
    "ERROR_CODES",
    "REGISTRY",
    "InvalidParamsError",
    "InvalidRequestError",
    "MethodSpec",
    "NoParams",
    "NotSupportedError",
    "Registry",
    "Tagged",
    "method",
    "parse_params",
    "pending",
    "unsupported",
]

P = TypeVar("P", bound=msgspec.Struct)
Handler = Callable[["ServerContext", P, "Reply"], Awaitable[Any]]


#: The handlers' name for :class:`~codex_engine.errors.InvalidRpcRequestError` (the tree has an
#: ``InvalidRequestError`` already: the Responses API refusing a request of ours).
InvalidRequestError = InvalidRpcRequestError


#: CodexError subclass -> (code, message template). The first class the error is an instance of
#: wins; ``{method}`` is the request's method and ``{error}`` the exception's one-line message.
#: JsonRpcError (a client's error answer, or a code chosen on purpose) passes through as it is.
#: Like the reference, a request that cannot be served as sent (bad params, unknown or
#: unsupported method, a thread busy elsewhere) answers -32600 (the SDK's InvalidRequestError);
#: a valid request that failed answers -32603. The messages stay codex-engine's own.
ERROR_CODES: tuple[tuple[type[CodexError], int, str], ...] = (
    (InvalidParamsError, INVALID_REQUEST, "invalid params for {method}: {error}"),
    (ConfigError, INVALID_REQUEST, "invalid params for {method}: {error}"),
    (InvalidRpcRequestError, INVALID_REQUEST, "{error}"),
    (NotSupportedError, INVALID_REQUEST, "{error}"),
    (SessionLockedError, INVALID_REQUEST, "{method} failed: {error}"),
    (CodexError, INTERNAL_ERROR, "{method} failed: {error}"),
)


def to_jsonrpc(method_name: str, error: CodexError) -> JsonRpcError:
    """The JSON-RPC error a handler's CodexError answers with."""
    if isinstance(error, JsonRpcError):
        return error
    for kind, code, template in ERROR_CODES:
        if isinstance(error, kind):
            return JsonRpcError(code, template.format(method=method_name, error=error))
    raise AssertionError("CodexError is the last row of ERROR_CODES")  # pragma: no cover


class NoParams(msgspec.Struct, frozen=True):
    """The params of a method that takes none (whatever object is sent is ignored)."""


class Tagged(msgspec.Struct, Generic[P], frozen=True):
    """Params whose model is chosen by one field, e.g. ``account/login/start``'s ``type``."""

    field: str
    models: Mapping[str, type[P]]


def parse_params(spec: type[P] | Tagged[P], params: Any) -> P:
    """Validate params; errors name the offending field the way the client spelled it.

    The message never quotes a field's value (it may be a secret such as an API key); only a
    :class:`Tagged` spec's tag is echoed.
    """
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidParamsError("expected an object")
    if isinstance(spec, Tagged):
        tag = params.get(spec.field)
        model = spec.models.get(tag) if isinstance(tag, str) else None
        if model is None:
            choices = ", ".join(spec.models)
            raise InvalidParamsError(f"`{spec.field}` {tag!r} is not supported; use {_or(choices)}")
    else:
        model = spec
    return decode_params(model, params)


def _or(choices: str) -> str:
    head, _, last = choices.rpartition(", ")
    return f"{head} or {last}" if head else last


class MethodSpec(msgspec.Struct, Generic[P], frozen=True):
    name: str
    params: type[P] | Tagged[P]
    handler: Handler[P]
    #: Only ``initialize`` may come before ``initialize``.
    before_initialize: bool = False


class Registry:
    """Method name -> :class:`MethodSpec`, plus the methods declared but not implemented yet.

    A method family's module may be registered :meth:`lazily <lazy>`: it is imported (and its
    ``@method`` declarations run) on the first call of one of its methods.
    """

    def __init__(self) -> None:
        self._methods: dict[str, MethodSpec[Any]] = {}
        self._pending: dict[str, str] = {}
        self._unsupported: dict[str, str] = {}
        #: Method name -> the module that declares it, not imported yet.
        self._lazy: dict[str, str] = {}

    def lazy(self, module: str, names: Iterable[str]) -> None:
        """``module`` declares ``names``; it is imported on the first call of one of them."""
        for name in names:
            self._lazy[name] = module

    def _load(self, module: str) -> None:
        importlib.import_module(module)
        # Whatever that import declared (its family, and any module it imports) is loaded now.
        for name in self._methods:
            self._lazy.pop(name, None)
        self._lazy = {name: owner for name, owner in self._lazy.items() if owner != module}

    def load_all(self) -> None:
        """Import every lazily registered family (for listings of the whole table)."""
        while self._lazy:
            self._load(next(iter(self._lazy.values())))

    def _find(self, name: str) -> MethodSpec[Any] | None:
        spec = self._methods.get(name)
        if spec is None and name in self._lazy:
            self._load(self._lazy[name])
            spec = self._methods.get(name)
        return spec

    def method(
        self, name: str, params: type[P] | Tagged[P], *, before_initialize: bool = False
    ) -> Callable[[Handler[P]], Handler[P]]:
        """Declare ``name``: its params are validated with ``params`` before the handler runs."""

        def register(handler: Handler[P]) -> Handler[P]:
            # Implementing a pending method replaces its entry; anything else is a mistake.
            self._pending.pop(name, None)
            self._claim(name)
            self._methods[name] = MethodSpec(name, params, handler, before_initialize)
            return handler

        return register

    def _claim(self, name: str) -> None:
        if name in self._methods or name in self._pending or name in self._unsupported:
            raise ValueError(f"app-server method {name} is declared twice")

    def pending(self, name: str, reason: str) -> None:
        """A reference method codex-engine will implement; ``reason`` says what it waits for."""
        self._claim(name)
        self._pending[name] = reason

    def unsupported(self, name: str, reason: str) -> None:
        """A reference method codex-engine does not serve by design (README lists them)."""
        self._claim(name)
        self._unsupported[name] = reason

    def spec(self, name: str) -> MethodSpec[Any]:
        """How ``name`` is served (KeyError when it is not)."""
        spec = self._find(name)
        if spec is None:
            raise KeyError(name)
        return spec

    @property
    def names(self) -> frozenset[str]:
        self.load_all()
        return frozenset(self._methods)

    @property
    def pending_names(self) -> frozenset[str]:
        self.load_all()
        return frozenset(self._pending)

    @property
    def unsupported_names(self) -> frozenset[str]:
        self.load_all()
        return frozenset(self._unsupported)

    async def dispatch(self, ctx: ServerContext, name: str, params: Any, reply: Reply) -> Any:
        """Run one request; returns its result or raises JsonRpcError (the connection answers)."""
        spec = self._find(name)
        if not ctx.initialized and (spec is None or not spec.before_initialize):
            raise JsonRpcError(
                INVALID_REQUEST, f"{name} was sent before initialize; send initialize first"
            )
        if spec is None:
            # The reference answers a method it does not know with -32600, not -32601.
            if name in self._unsupported:
                raise JsonRpcError(
                    INVALID_REQUEST,
                    f"{name} is not supported by codex-engine ({self._unsupported[name]})",
                )
            if name in self._pending:
                raise JsonRpcError(
                    INVALID_REQUEST,
                    f"{name} is not implemented yet in codex-engine ({self._pending[name]})",
                )
            raise JsonRpcError(
                INVALID_REQUEST, f"unknown method {name!r}: it is not an app-server method"
            )
        try:
            parsed = parse_params(spec.params, params)
            return await spec.handler(ctx, parsed, reply)
        except CodexError as exc:
            raise to_jsonrpc(name, exc) from None


#: The app-server's methods; ``app_server.handlers`` fills it (lazily) when imported.
REGISTRY = Registry()
method = REGISTRY.method
pending = REGISTRY.pending
unsupported = REGISTRY.unsupported

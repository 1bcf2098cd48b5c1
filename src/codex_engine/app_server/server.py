"""The app-server of one connection: requests go to the registry's handlers, nothing else here.

How a method is handled: :mod:`~codex_engine.app_server.registry` (dispatch, params, error
codes) and ``app_server/handlers/<family>.py`` (``@method("thread/start", ...)``).
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from codex_engine.app_server import handlers
from codex_engine.app_server.connection import Connection, Reply
from codex_engine.app_server.context import ServerContext, ServerOptions
from codex_engine.app_server.registry import REGISTRY

if TYPE_CHECKING:
    from codex_engine.auth.manager import AuthManager

__all__ = ["AppServer", "ServerOptions"]

log = logging.getLogger(__name__)


class AppServer:
    """Serves one connection: the :class:`~codex_engine.app_server.connection.Dispatcher`."""

    def __init__(
        self,
        connection: Connection,
        options: ServerOptions | None = None,
        *,
        auth_manager: AuthManager | None = None,
    ) -> None:
        self.context = ServerContext.create(connection, options, auth_manager=auth_manager)

    async def handle_request(self, method: str, params: Any, reply: Reply) -> Any:
        return await REGISTRY.dispatch(self.context, method, params, reply)

    async def handle_notification(self, method: str, params: Any) -> None:
        if method != "initialized":
            log.info("ignored client notification %s", method)

    async def finish(self) -> None:
        """Wait for the running turns to end (input from a file has ended)."""
        turns = handlers.loaded("turns")
        if turns is not None:  # else no turn ever started
            await turns.wait_all(self.context)

    async def shutdown(self) -> None:
        """Interrupt running turns, wait for them, close every session and sign-in."""
        ctx = self.context
        # A family no call loaded has nothing running.
        if (fs_watch := handlers.loaded("fs_watch")) is not None:
            await fs_watch.stop_all(ctx)
        if (command_exec := handlers.loaded("command_exec")) is not None:
            await command_exec.stop_all(ctx)
        if (turns := handlers.loaded("turns")) is not None:
            await turns.interrupt_all(ctx)
        for thread in ctx.threads.values():
            with contextlib.suppress(Exception):
                await thread.stack.aclose()
        accounts = ctx.accounts_started
        if accounts is not None:
            with contextlib.suppress(Exception):
                await accounts.aclose()

"""The browser sign-in's loopback endpoint, over real sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import httpx

from codex_engine.auth.login_callback import CallbackReply, LoginCallbackServer


async def test_redirect_query_reaches_the_handler_and_its_reply_the_browser() -> None:
    seen: list[Mapping[str, str]] = []

    async def handler(query: Mapping[str, str]) -> CallbackReply:
        seen.append(dict(query))
        return CallbackReply(200, "Signed in.")

    server = await LoginCallbackServer.start(handler)
    try:
        async with httpx.AsyncClient() as client:
            url = f"http://127.0.0.1:{server.port}/auth/callback?code=abc&state=s%20t&code=2"
            response = await client.get(url)
    finally:
        await server.aclose()
    assert response.status_code == 200
    assert response.text == "Signed in."
    assert response.headers["connection"] == "close"
    assert seen == [{"code": "abc", "state": "s t"}]


async def test_other_paths_methods_and_garbage_get_errors_and_the_server_stays_up() -> None:
    calls = 0

    async def handler(query: Mapping[str, str]) -> CallbackReply:
        nonlocal calls
        calls += 1
        return CallbackReply(400, "state mismatch")

    server = await LoginCallbackServer.start(handler)
    base = f"http://127.0.0.1:{server.port}"
    try:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{base}/favicon.ico")).status_code == 404
            assert (await client.post(f"{base}/auth/callback")).status_code == 405
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"\x00\x01 not http at all\r\n\r\n")
            await writer.drain()
            raw = await reader.read()
            writer.close()
            assert raw.startswith(b"HTTP/1.1 400 ")
            # A client that connects and says nothing does not stop others from being served.
            _idle = await asyncio.open_connection("127.0.0.1", server.port)
            response = await client.get(f"{base}/auth/callback?state=x")
            assert (response.status_code, response.text) == (400, "state mismatch")
            _idle[1].close()
    finally:
        await server.aclose()
    assert calls == 1


async def test_close_ends_open_connections_and_frees_the_port() -> None:
    async def handler(query: Mapping[str, str]) -> CallbackReply:
        return CallbackReply(200, "ok")

    server = await LoginCallbackServer.start(handler)
    port = server.port
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /auth/callback HTTP/1.1\r\n")  # never finished
    await writer.drain()
    await asyncio.wait_for(server.aclose(grace_s=0.1), 5)
    again = await LoginCallbackServer.start(handler, port=port)
    await again.aclose()
    writer.close()

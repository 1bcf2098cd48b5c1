"""Request headers come from protocol/headers.py alone: their exact names, values and order,
and the same bytes on the wire from the HTTP request and from every kind of handshake."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import msgspec
import pytest

from codex_engine.client.credentials import Credentials, StaticCredentials
from codex_engine.client.model_client import ModelClient
from codex_engine.client.warm import start_warm_handshake
from codex_engine.config.providers import ModelProviderInfo
from codex_engine.errors import ConfigError, InvalidRequestError
from codex_engine.protocol.headers import (
    ClientIdentity,
    HeaderInputs,
    handshake_headers,
    http_headers,
    provider_headers,
)
from codex_engine.protocol.items import user_message
from codex_engine.protocol.request import Prompt, RequestContext
from codex_engine.transport.websocket import FallbackToHttpError

IDENTITY = ClientIdentity(originator="codex_engine", user_agent="codex_engine/0 (Test) python/3")
INPUTS = HeaderInputs(
    identity=IDENTITY,
    thread_id="thr-1",
    bearer="tok-1",
    account_id="acct-1",
    turn_state="ts-9",
    turn_metadata={"turn_id": "t1", "sandbox": "none"},
    beta_features="feat_a,feat_b",
    provider_headers={"X-Static": "s1", "OpenAI-Organization": "org-9"},
)
COMMON = [
    ("X-Static", "s1"),
    ("OpenAI-Organization", "org-9"),
    ("x-codex-beta-features", "feat_a,feat_b"),
    ("x-codex-turn-state", "ts-9"),
    ("x-codex-turn-metadata", '{"turn_id":"t1","sandbox":"none"}'),
    ("x-client-request-id", "thr-1"),
    ("session-id", "thr-1"),
    ("thread-id", "thr-1"),
    ("Authorization", "Bearer tok-1"),
    ("ChatGPT-Account-ID", "acct-1"),
    ("originator", "codex_engine"),
    ("User-Agent", "codex_engine/0 (Test) python/3"),
]


def test_http_headers_in_order() -> None:
    assert list(http_headers(INPUTS).items()) == [
        *COMMON,
        ("Accept", "text/event-stream"),
        ("Content-Type", "application/json"),
    ]


def test_zstd_http_headers_in_order() -> None:
    assert list(http_headers(INPUTS, zstd=True).items()) == [
        *COMMON,
        ("Content-Encoding", "zstd"),
        ("Content-Type", "application/json"),
        ("Accept", "text/event-stream"),
    ]


def test_handshake_headers_in_order() -> None:
    assert list(handshake_headers(INPUTS).items()) == [
        *COMMON,
        ("OpenAI-Beta", "responses_websockets=2026-02-06"),
    ]


def test_optional_inputs_add_nothing() -> None:
    bare = HeaderInputs(identity=IDENTITY, thread_id="thr-2")
    assert list(handshake_headers(bare)) == [
        "x-client-request-id",
        "session-id",
        "thread-id",
        "originator",
        "User-Agent",
        "OpenAI-Beta",
    ]


def test_protocol_headers_win_over_a_provider_header_of_the_same_name() -> None:
    inputs = HeaderInputs(
        identity=IDENTITY, thread_id="thr-3", provider_headers={"session-id": "spoofed"}
    )
    assert http_headers(inputs)["session-id"] == "thr-3"


def test_a_provider_content_encoding_with_compression_is_a_config_error() -> None:
    inputs = HeaderInputs(
        identity=IDENTITY, thread_id="thr-4", provider_headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(ConfigError, match="enable_request_compression"):
        http_headers(inputs, zstd=True)


def test_provider_headers_take_env_values_that_are_set() -> None:
    env = {"ORG": " org-1 ", "EMPTY": ""}
    got = provider_headers(
        {"X-A": "a"}, {"X-Org": "ORG", "X-Empty": "EMPTY", "X-Gone": "NOPE"}, env
    )
    assert got == {"X-A": "a", "X-Org": "org-1"}


# -- on the wire -------------------------------------------------------------------------------


class RawServer:
    """Records each request's header block; refuses upgrades with 426 and POSTs with 400."""

    def __init__(self) -> None:
        self.heads: list[str] = []
        self.base_url = ""
        self._server: asyncio.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        self.heads.append(head)
        if "upgrade: websocket" in head.lower():
            writer.write(b"HTTP/1.1 426 Upgrade Required\r\ncontent-length: 0\r\n\r\n")
        else:
            body = b'{"error":{"message":"no","type":"invalid_request_error"}}'
            writer.write(
                b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body) + body
            )
        await writer.drain()
        writer.close()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()


def header_lines(head: str) -> list[str]:
    """The request's header lines, minus those the HTTP/WebSocket libraries vary per request."""
    lines = head.split("\r\n")[1:]
    varying = re.compile(r"^(host|sec-websocket-key|content-length):", re.I)
    return [line for line in lines if line and not varying.match(line)]


@pytest.fixture
async def raw() -> AsyncIterator[RawServer]:
    async with RawServer() as server:
        yield server


ENV = {"ORG": "org-9", "KEY": "sk-env"}


def provider(base_url: str) -> ModelProviderInfo:
    return ModelProviderInfo(
        name="p",
        base_url=base_url,
        supports_websockets=True,
        env_key="KEY",
        http_headers={"X-Static": "s1"},
        env_http_headers={"OpenAI-Organization": "ORG"},
    )


def client_for(base_url: str, *, websockets: bool) -> ModelClient:
    return ModelClient(
        provider=provider(base_url),
        credentials=StaticCredentials("sk-env"),
        thread_id="thr-1",
        identity=IDENTITY,
        beta_features="feat_a",
        enable_websockets=websockets,
        env=ENV,
    )


METADATA = {"sandbox": "read-only"}
CTX = RequestContext(model="m", thread_id="thr-1", turn_metadata=METADATA)
PROMPT = Prompt(input=[user_message("hi")], base_instructions="x")


async def test_preconnect_turn_and_early_handshakes_send_the_same_headers(
    raw: RawServer,
) -> None:
    async with client_for(raw.base_url, websockets=True) as client:
        assert client.preconnect(turn_metadata=METADATA)
        with pytest.raises(FallbackToHttpError):
            await client.preconnector.take()
    async with client_for(raw.base_url, websockets=True) as client:
        turn = client.new_session()
        with pytest.raises(InvalidRequestError):  # 426, then the 400 of the HTTP fallback
            async for _ in turn.stream(PROMPT, CTX):
                pass
    early = start_warm_handshake(
        provider(raw.base_url),
        thread_id="thr-1",
        identity=IDENTITY,
        beta_features="feat_a",
        env=ENV,
        turn_metadata=METADATA,
    )
    with pytest.raises(FallbackToHttpError):
        await early
    preconnect, turn_handshake, fallback_post, early_handshake = map(header_lines, raw.heads)
    assert preconnect == turn_handshake == early_handshake
    assert preconnect[-3:] == [
        "originator: codex_engine",
        "OpenAI-Beta: responses_websockets=2026-02-06",
        "User-Agent: codex_engine/0 (Test) python/3",  # written by the library, ours
    ]
    assert "Authorization: Bearer sk-env" in preconnect
    assert [line for line in fallback_post if line.startswith("x-codex-turn-metadata")] == [
        'x-codex-turn-metadata: {"sandbox":"read-only"}'
    ]


async def test_compressed_and_plain_posts_carry_the_built_headers_exactly(
    raw: RawServer,
) -> None:
    class ChatGpt:
        async def credentials(self) -> Credentials:
            return Credentials("tok-1", "acct-1", is_chatgpt=True)

        async def recover_unauthorized(self) -> bool:
            return False

    openai = msgspec.structs.replace(provider(raw.base_url), name="OpenAI", env_key=None)
    async with ModelClient(
        provider=openai,
        credentials=ChatGpt(),
        thread_id="thr-1",
        identity=IDENTITY,
        beta_features="feat_a",
        env=ENV,
    ) as client:
        with pytest.raises(InvalidRequestError):  # 400 to zstd, then 400 to the plain resend
            async for _ in client.new_session().stream(PROMPT, CTX):
                pass
    inputs = HeaderInputs(
        identity=IDENTITY,
        thread_id="thr-1",
        bearer="tok-1",
        account_id="acct-1",
        turn_metadata=METADATA,
        beta_features="feat_a",
        provider_headers={"X-Static": "s1", "OpenAI-Organization": "org-9"},
    )
    compressed, plain = map(header_lines, raw.heads)
    library = ["Accept-Encoding: gzip, deflate, zstd", "Connection: keep-alive"]
    assert compressed == library + [f"{k}: {v}" for k, v in http_headers(inputs, zstd=True).items()]
    assert plain == library + [f"{k}: {v}" for k, v in http_headers(inputs).items()]

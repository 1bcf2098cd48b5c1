"""A custom CA bundle (CODEX_CA_CERTIFICATE, then SSL_CERT_FILE) works for HTTPS and WSS alike."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from codex_engine.emulator import ResponsesEmulator
from codex_engine.errors import ConfigError, ConnectionFailedError
from codex_engine.protocol.events import OutputTextDelta
from codex_engine.protocol.items import user_message
from codex_engine.protocol.request import Prompt, RequestContext
from codex_engine.transport.tls import ssl_context
from tests.conftest import make_client

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA and a certificate for 127.0.0.1 signed by it."""
    d = tmp_path_factory.mktemp("pki")
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "1", "-subj", "/CN=codex-engine test CA", cwd=d,
    )  # fmt: skip
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=127.0.0.1", cwd=d,
    )  # fmt: skip
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    _openssl(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "ext.cnf", cwd=d,
    )  # fmt: skip
    return d


@pytest.fixture
async def tls_emulator(pki: Path) -> AsyncIterator[ResponsesEmulator]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    async with ResponsesEmulator(ssl_context=context) as emu:
        yield emu


async def _turn(emu: ResponsesEmulator, env: dict[str, str], *, websockets: bool) -> str:
    prompt = Prompt(input=[user_message("over tls")], base_instructions="x")
    ctx = RequestContext(model="gpt-5.1-codex", thread_id="t")
    async with make_client(
        emu.base_url,
        env=env,
        supports_websockets=websockets,
        enable_websockets=websockets,
        enable_preconnect=False,
        request_max_retries=0,
        stream_max_retries=0,
    ) as client:
        events = [e async for e in client.new_session().stream(prompt, ctx)]
    return "".join(e.delta for e in events if isinstance(e, OutputTextDelta))


@pytest.mark.parametrize("variable", ["CODEX_CA_CERTIFICATE", "SSL_CERT_FILE"])
async def test_custom_ca_is_trusted_over_https(
    tls_emulator: ResponsesEmulator, pki: Path, variable: str
) -> None:
    text = await _turn(tls_emulator, {variable: str(pki / "ca.pem")}, websockets=False)
    assert "over tls" in text
    assert tls_emulator.requests_of("http")


async def test_custom_ca_is_trusted_over_wss(tls_emulator: ResponsesEmulator, pki: Path) -> None:
    text = await _turn(tls_emulator, {"CODEX_CA_CERTIFICATE": str(pki / "ca.pem")}, websockets=True)
    assert "over tls" in text
    assert tls_emulator.requests_of("ws_message")


async def test_unknown_ca_is_refused(tls_emulator: ResponsesEmulator) -> None:
    with pytest.raises(ConnectionFailedError, match="could not connect"):
        await _turn(tls_emulator, {}, websockets=False)


def test_unreadable_bundle_is_a_config_error(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-cert.pem"
    bogus.write_text("garbage")
    with pytest.raises(ConfigError, match="CODEX_CA_CERTIFICATE"):
        ssl_context({"CODEX_CA_CERTIFICATE": str(bogus)})

"""TLS settings shared by the HTTP and WebSocket transports (custom CA bundles)."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path

from codex_engine.errors import ConfigError

__all__ = ["ssl_context"]


def ssl_context(env: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """The system roots plus ``CODEX_CA_CERTIFICATE`` (else ``SSL_CERT_FILE``) when set.

    The extra bundle is appended to the default roots, not substituted for them, so a corporate
    proxy CA does not break public endpoints.
    """
    source = os.environ if env is None else env
    context = ssl.create_default_context()
    for name in ("CODEX_CA_CERTIFICATE", "SSL_CERT_FILE"):
        value = source.get(name, "").strip()
        if not value:
            continue
        path = Path(value).expanduser()
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"{name}={path} could not be loaded as a PEM CA bundle ({exc}); "
                f"point {name} at a readable PEM file or unset it"
            ) from None
        break
    return context

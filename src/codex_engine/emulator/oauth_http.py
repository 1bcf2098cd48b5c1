"""HTTP routes of the emulator's OAuth issuer (device-code endpoints and the token endpoint)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from codex_engine.emulator.oauth import OAuthIssuer, TokenRefusedError

__all__ = ["OAUTH_PATHS", "handle_oauth"]

OAUTH_PATHS = (
    "/oauth/token",
    "/api/accounts/deviceauth/usercode",
    "/api/accounts/deviceauth/token",
)


def _refused(exc: TokenRefusedError) -> web.Response:
    body = {"error": {"code": exc.code, "message": f"The grant was refused: {exc.code}."}}
    return web.json_response(body, status=exc.status)


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if request.content_type == "application/x-www-form-urlencoded":
        return {key: values[0] for key, values in parse_qs(raw.decode()).items()}
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


async def handle_oauth(issuer: OAuthIssuer, request: web.Request) -> web.StreamResponse:
    """Answer one request to a path in ``OAUTH_PATHS``."""
    path = request.path.rstrip("/")
    if request.method != "POST":
        return web.json_response({"error": "method_not_allowed"}, status=405)
    body = await _body(request)
    if path == "/api/accounts/deviceauth/usercode":
        device = issuer.start_device_authorization()
        return web.json_response(
            {
                "device_auth_id": device.device_auth_id,
                "user_code": device.user_code,
                "interval": issuer.device_interval,
            }
        )
    if path == "/api/accounts/deviceauth/token":
        try:
            approved = issuer.poll(str(body.get("device_auth_id")), str(body.get("user_code")))
        except KeyError:
            return web.json_response({"error": "unknown_device_code"}, status=404)
        if approved is None:
            return web.json_response({"error": "authorization_pending"}, status=403)
        return web.json_response(
            {
                "authorization_code": approved.authorization_code,
                "code_challenge": "emulator-challenge",
                "code_verifier": approved.code_verifier,
            }
        )
    grant = body.get("grant_type")
    try:
        if grant == "refresh_token":
            tokens = issuer.redeem_refresh_token(str(body.get("refresh_token", "")))
        elif grant == "authorization_code":
            tokens = issuer.exchange_authorization_code(
                str(body.get("code", "")), str(body.get("code_verifier", ""))
            )
        else:
            raise TokenRefusedError("unsupported_grant_type", status=400)
    except TokenRefusedError as exc:
        return _refused(exc)
    return web.json_response(tokens.to_json())

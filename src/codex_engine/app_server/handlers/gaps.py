"""The reference's methods codex-engine does not serve: by design (``unsupported``), or not yet
(``pending``). Both answer -32600 naming the method and why; the README lists them.

Imported before the family modules: a family that implements a pending method replaces it.
"""

from __future__ import annotations

from codex_engine.app_server.registry import pending, unsupported

__all__ = ["PENDING", "UNSUPPORTED"]

_PLUGINS = "plugins and their marketplaces belong to the ChatGPT apps platform"
_APPS = "ChatGPT apps (connectors) are not available in codex-engine"
_WINDOWS = "codex-engine sandboxes with bubblewrap on Linux and has no Windows sandbox"
_FEEDBACK = "codex-engine has no feedback service to upload to"
_REALTIME = "realtime voice sessions are not part of codex-engine"
_REMOTE = "remote control of the desktop app is not part of codex-engine"

#: Method -> why codex-engine does not serve it (by design).
UNSUPPORTED: dict[str, str] = {
    **dict.fromkeys(
        (
            "marketplace/add",
            "marketplace/remove",
            "marketplace/upgrade",
            "plugin/list",
            "plugin/installed",
            "plugin/reconcile",
            "plugin/read",
            "plugin/skill/read",
            "plugin/share/save",
            "plugin/share/updateTargets",
            "plugin/share/list",
            "plugin/share/checkout",
            "plugin/share/delete",
            "plugin/install",
            "plugin/uninstall",
            "plugin/search",
        ),
        _PLUGINS,
    ),
    **dict.fromkeys(("app/read", "app/list", "app/installed"), _APPS),
    **dict.fromkeys(("windowsSandbox/setupStart", "windowsSandbox/readiness"), _WINDOWS),
    "feedback/upload": _FEEDBACK,
    "mcpServer/oauth/login": (
        "OAuth sign-in for MCP servers is not supported by codex-engine; give the server a token"
        " with bearer_token_env_var or http_headers"
    ),
    **dict.fromkeys(
        (
            "thread/realtime/start",
            "thread/realtime/appendAudio",
            "thread/realtime/appendText",
            "thread/realtime/appendSpeech",
            "thread/realtime/stop",
            "thread/realtime/listVoices",
        ),
        _REALTIME,
    ),
    **dict.fromkeys(
        (
            "remoteControl/enable",
            "remoteControl/disable",
            "remoteControl/status/read",
            "remoteControl/pairing/start",
            "remoteControl/pairing/status",
            "remoteControl/client/list",
            "remoteControl/client/revoke",
        ),
        _REMOTE,
    ),
}

_CHATGPT = "needs the ChatGPT account backend"
_SECTIONS = "thread sections and attachments need the new rollout index"
_HISTORY = "paged turns and items need the new rollout store"
_SKILLS = "skills and hooks are not loaded yet"
_EXTERNAL = "importing other agents' configuration is not built yet"

#: Stable reference methods codex-engine will implement -> what each waits for.
PENDING: dict[str, str] = {
    **dict.fromkeys(
        (
            "thread/attachment/add",
            "thread/attachment/list",
            "thread/attachmentOwner/list",
            "thread/attachment/remove",
            "thread/section/move",
            "threadSection/list",
            "threadSection/create",
            "threadSection/update",
            "threadSection/delete",
        ),
        _SECTIONS,
    ),
    **dict.fromkeys(
        ("thread/approveGuardianDeniedAction",),
        _HISTORY,
    ),
    **dict.fromkeys(
        ("skills/list", "skills/extraRoots/set", "skills/config/write", "hooks/list"), _SKILLS
    ),
    # mcpServerStatus/list, mcpServer/tool/call, mcpServer/resource/read and
    # config/mcpServer/reload: handlers/mcp.py; mcpServer/oauth/login is in UNSUPPORTED.
    **dict.fromkeys(
        (
            "account/gatewayOAuth/read",
            "account/gatewayOAuth/login",
            "account/gatewayOAuth/cancel",
            "account/rateLimitResetCredit/consume",
            "account/usage/read",
            "account/workspaceMessages/read",
            "account/sendAddCreditsNudgeEmail",
        ),
        _CHATGPT,
    ),
    **dict.fromkeys(
        (
            "externalAgentConfig/detect",
            "externalAgentConfig/import",
            "externalAgentConfig/import/recordHistory",
            "externalAgentConfig/import/readHistories",
        ),
        _EXTERNAL,
    ),
}

for _name, _why in UNSUPPORTED.items():
    unsupported(_name, _why)
for _name, _why in PENDING.items():
    pending(_name, _why)

"""Settings in a config file that nothing reads: named in a warning, never an error.

A key codex-engine's config model does not know is either one the reference Codex CLI knows and
codex-engine does not implement ("not supported by codex-engine"), or one neither knows (a
typo, or a setting of another version: "unknown"). Tables validated elsewhere warn there:
``[mcp_servers.*]``, ``[shell_environment_policy]``, ``[features]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

__all__ = ["REFERENCE_TOP_LEVEL_KEYS", "ignored_keys_warnings", "model_keys"]

#: Top-level keys of the reference's config (0.163, ``codex-rs/core/config.schema.json``).
#: ``[profiles.NAME]`` takes a subset of these; keys there are judged by the same list.
REFERENCE_TOP_LEVEL_KEYS = frozenset(
    {
        "agents", "allow_login_shell", "analytics", "approval_policy", "approvals_reviewer",
        "apps", "apps_mcp_product_sku", "audio", "auto_review",
        "background_terminal_max_timeout", "chatgpt_base_url", "check_for_update_on_startup",
        "cli_auth_credentials_store", "compact_prompt", "debug", "default_permissions",
        "desktop", "developer_instructions", "disable_paste_burst",
        "experimental_compact_prompt_file", "experimental_realtime_start_instructions",
        "experimental_realtime_ws_backend_prompt", "experimental_realtime_ws_base_url",
        "experimental_realtime_ws_model", "experimental_realtime_ws_startup_context",
        "experimental_thread_config_endpoint", "experimental_thread_store",
        "experimental_use_unified_exec_tool", "features", "feedback", "file_opener",
        "forced_chatgpt_workspace_id", "forced_login_method", "ghost_snapshot",
        "hide_agent_reasoning", "history", "hooks", "include_apps_instructions",
        "include_collaboration_mode_instructions", "include_environment_context",
        "include_permissions_instructions", "instructions", "log_dir", "marketplaces",
        "mcp_oauth_callback_port", "mcp_oauth_callback_url", "mcp_oauth_credentials_store",
        "mcp_servers", "memories", "model", "model_auto_compact_token_limit",
        "model_auto_compact_token_limit_scope", "model_catalog_json", "model_context_window",
        "model_instructions_file", "model_provider", "model_providers",
        "model_reasoning_effort", "model_reasoning_summary", "model_supports_reasoning_summaries",
        "model_verbosity", "notice", "notify", "openai_base_url", "oss_provider", "otel",
        "permissions", "personality", "plan_mode_reasoning_effort", "plugins", "profile",
        "profiles", "project_doc_fallback_filenames", "project_doc_max_bytes",
        "project_root_markers", "projects", "realtime", "review_model", "sandbox_mode",
        "sandbox_workspace_write", "service_tier", "shell_environment_policy",
        "show_raw_agent_reasoning", "skills", "sqlite_home", "suppress_unstable_features_warning",
        "tool_output_token_limit", "tool_suggest", "tools", "tui", "web_search", "windows",
    }
)  # fmt: skip

#: Listed in one warning before "and N more".
_SHOWN = 12


def model_keys(model: type[msgspec.Struct]) -> frozenset[str]:
    """The keys a config Struct reads (by their names in the file)."""
    return frozenset(model.__struct_encode_fields__)


def _ignored(
    table: Mapping[str, Any], known: frozenset[str], profile_known: frozenset[str]
) -> list[str]:
    """Dotted paths of keys nothing reads: top-level ones and those of ``[profiles.NAME]``."""
    found = [key for key in table if key not in known]
    profiles = table.get("profiles")
    if isinstance(profiles, Mapping):
        for name, profile in profiles.items():
            if isinstance(profile, Mapping):
                found += [f"profiles.{name}.{key}" for key in profile if key not in profile_known]
    return sorted(found)


def _listing(keys: Sequence[str]) -> str:
    shown = ", ".join(f"`{key}`" for key in keys[:_SHOWN])
    rest = len(keys) - _SHOWN
    return shown + (f" and {rest} more" if rest > 0 else "")


def ignored_keys_warnings(
    table: Mapping[str, Any],
    *,
    source: str,
    known: frozenset[str],
    profile_known: frozenset[str],
) -> list[str]:
    """At most two lines: keys codex-engine does not support, and keys nobody knows."""
    unsupported: list[str] = []
    unknown: list[str] = []
    for path in _ignored(table, known, profile_known):
        leaf = path.rsplit(".", 1)[-1]
        (unsupported if leaf in REFERENCE_TOP_LEVEL_KEYS else unknown).append(path)
    warnings = []
    if unsupported:
        warnings.append(
            f"{source}: settings not supported by codex-engine are ignored: "
            f"{_listing(unsupported)}; remove them to silence this warning"
        )
    if unknown:
        warnings.append(
            f"{source}: unknown settings are ignored: {_listing(unknown)}; "
            "check their spelling or remove them"
        )
    return warnings

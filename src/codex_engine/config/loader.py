"""Load `$CODEX_HOME/config.toml`, apply the profile and `-c` overrides, validate into `Config`.

Every problem surfaces as a one-line ConfigError naming the key, where it came from and the fix.
"""

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from codex_engine.config.catalog import DEFAULT_MODEL, ModelInfo, ReasoningEffort, find_model_info
from codex_engine.config.config_file import OVERRIDE_SOURCE, convert_table, read_config_file
from codex_engine.config.features import Features
from codex_engine.config.mcp_servers import McpServerConfig, parse_mcp_servers
from codex_engine.config.overrides import Override, apply_overrides
from codex_engine.config.providers import (
    OPENAI_PROVIDER_ID,
    ModelProviderInfo,
    resolve_providers,
)
from codex_engine.config.shell_environment import (
    POLICY_TABLE,
    ShellEnvironmentPolicy,
    ShellEnvironmentPolicyToml,
    resolve_shell_environment_policy,
)
from codex_engine.config.unknown_keys import ignored_keys_warnings, model_keys
from codex_engine.errors import ConfigError

__all__ = [
    "DEFAULT_CHATGPT_BASE_URL",
    "OVERRIDE_SOURCE",
    "ApprovalPolicy",
    "AuthCredentialsStore",
    "Config",
    "ConfigProfile",
    "ConfigToml",
    "ForcedLoginMethod",
    "ReasoningSummary",
    "SandboxMode",
    "Verbosity",
    "WebSearchMode",
    "load_config",
    "read_config_file",
    "resolve_codex_home",
]

#: Base of the ChatGPT account/backend API (not the Responses endpoint, see providers).
DEFAULT_CHATGPT_BASE_URL = "https://chatgpt.com/backend-api/"
#: How messages name values that came from the command line.

ReasoningSummary = Literal["auto", "concise", "detailed", "none"]
Verbosity = Literal["low", "medium", "high"]
ApprovalPolicy = Literal["untrusted", "on-failure", "on-request", "never"]
SandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]
WebSearchMode = Literal["disabled", "cached", "live"]
ForcedLoginMethod = Literal["chatgpt", "api"]
AuthCredentialsStore = Literal["file", "keyring", "auto", "ephemeral"]

_PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
#: The reference's default for ``project_doc_max_bytes`` (32 KiB).
DEFAULT_PROJECT_DOC_MAX_BYTES = 32 * 1024


class UpdatePlanToolToml(msgspec.Struct, frozen=True, kw_only=True):
    """``[tools.update_plan]``: whether the model is offered the ``update_plan`` tool."""

    enabled: bool = False


class ToolsToml(msgspec.Struct, frozen=True, kw_only=True):
    """``[tools]``: per-tool settings (other keys belong to other Codex versions)."""

    update_plan: UpdatePlanToolToml | None = None


class ConfigProfile(msgspec.Struct, frozen=True, kw_only=True):
    """Keys allowed both at the top level and inside `[profiles.<name>]`.

    Unknown keys are ignored (users' files carry keys of other Codex versions); known keys are
    type-checked strictly so `model_context_window = "big"` is an error, not a surprise.
    """

    model: str | None = None
    model_provider: str | None = None
    features: dict[str, Any] | None = None
    model_context_window: _PositiveInt | None = None
    model_auto_compact_token_limit: _PositiveInt | None = None
    model_reasoning_effort: ReasoningEffort | None = None
    model_reasoning_summary: ReasoningSummary | None = None
    model_verbosity: Verbosity | None = None
    model_supports_reasoning_summaries: bool | None = None
    base_instructions: str | None = None
    experimental_instructions_file: str | None = None
    model_instructions_file: str | None = None
    developer_instructions: str | None = None
    approval_policy: ApprovalPolicy | None = None
    sandbox_mode: SandboxMode | None = None
    web_search: WebSearchMode | None = None
    chatgpt_base_url: str | None = None
    forced_login_method: ForcedLoginMethod | None = None
    forced_chatgpt_workspace_id: str | None = None
    cli_auth_credentials_store: AuthCredentialsStore | None = None
    suppress_unstable_features_warning: bool | None = None
    openai_base_url: str | None = None
    tool_output_token_limit: _PositiveInt | None = None
    shell_environment_policy: ShellEnvironmentPolicyToml | None = None
    tools: ToolsToml | None = None


class ConfigToml(ConfigProfile, frozen=True, kw_only=True):
    """The whole `config.toml` as written (before profile and override resolution)."""

    profile: str | None = None
    profiles: dict[str, ConfigProfile] | None = None
    # Provider tables are validated one by one (merged over built-ins) by the loader.
    model_providers: dict[str, dict[str, Any]] | None = None
    otel: dict[str, Any] | None = None
    project_doc_max_bytes: Annotated[int, msgspec.Meta(ge=0)] | None = None
    project_doc_fallback_filenames: list[str] | None = None
    # Server tables are validated one by one by `config/mcp_servers.py`.
    mcp_servers: dict[str, Any] | None = None


class Config(msgspec.Struct, frozen=True):
    """Resolved configuration: file < profile < `-c` overrides, with defaults filled in."""

    codex_home: Path
    config_path: Path
    cwd: Path
    profile: str | None
    model: str
    model_provider_id: str
    model_provider: ModelProviderInfo
    model_providers: dict[str, ModelProviderInfo]
    features: Features
    #: User-facing warnings about the config: feature flags, and unknown or ignored keys.
    feature_warnings: list[str]
    model_context_window: int | None = None
    model_auto_compact_token_limit: int | None = None
    model_reasoning_effort: ReasoningEffort | None = None
    model_reasoning_summary: ReasoningSummary = "auto"
    model_verbosity: Verbosity | None = None
    model_supports_reasoning_summaries: bool | None = None
    #: From `base_instructions`, else the contents of `experimental_instructions_file`.
    base_instructions: str | None = None
    developer_instructions: str | None = None
    approval_policy: ApprovalPolicy = "on-request"
    sandbox_mode: SandboxMode = "read-only"
    #: Explicit `web_search`, else derived from the deprecated feature flags; None = unset.
    web_search: WebSearchMode | None = None
    chatgpt_base_url: str = DEFAULT_CHATGPT_BASE_URL
    forced_login_method: ForcedLoginMethod | None = None
    forced_chatgpt_workspace_id: str | None = None
    cli_auth_credentials_store: AuthCredentialsStore = "file"
    suppress_unstable_features_warning: bool = False
    openai_base_url: str | None = None
    otel: dict[str, Any] = msgspec.field(default_factory=dict)
    tool_output_token_limit: int | None = None
    #: Writable roots besides the workspace, set by the caller (``exec --add-dir``), not the file.
    additional_writable_roots: tuple[Path, ...] = ()
    #: What the model's commands inherit from the environment (see `config/shell_environment`).
    shell_environment_policy: ShellEnvironmentPolicy = msgspec.field(
        default_factory=ShellEnvironmentPolicy
    )
    #: How many bytes of the project's AGENTS.md files reach the model (0: none at all).
    project_doc_max_bytes: int = DEFAULT_PROJECT_DOC_MAX_BYTES
    #: Names tried after ``AGENTS.override.md`` and ``AGENTS.md`` in each directory.
    project_doc_fallback_filenames: tuple[str, ...] = ()
    #: `[mcp_servers.NAME]` entries, in file order (see `config/mcp_servers`).
    mcp_servers: dict[str, McpServerConfig] = msgspec.field(default_factory=dict)
    #: `[tools.update_plan] enabled`: the model is offered `update_plan` (off, as in 0.163).
    update_plan_tool: bool = False

    def model_info(self) -> tuple[ModelInfo, str | None]:
        """Catalog entry for `model` with this config's overrides, plus an unknown-model warning."""
        return find_model_info(
            self.model,
            context_window=self.model_context_window,
            auto_compact_token_limit=self.model_auto_compact_token_limit,
            base_instructions=self.base_instructions,
            tool_output_token_limit=self.tool_output_token_limit,
            supports_reasoning_summaries=self.model_supports_reasoning_summaries,
        )


# -- file reading -----------------------------------------------------------------------------


def resolve_codex_home(codex_home: Path | None, env: Mapping[str, str]) -> Path:
    """Argument, else `$CODEX_HOME`, else `~/.codex`. Not required to exist (created lazily)."""
    if codex_home is not None:
        return Path(codex_home).expanduser()
    from_env = env.get("CODEX_HOME", "").strip()
    if from_env:
        return Path(from_env).expanduser()
    return Path.home() / ".codex"


def _touches(path: Sequence[str | int], overrides: Sequence[Override]) -> bool:
    """Whether an override set this path, a table containing it, or something inside it."""
    for opath, _ in overrides:
        n = min(len(opath), len(path))
        if list(path[:n]) == list(opath[:n]):
            return True
    return False


# -- loading ----------------------------------------------------------------------------------


def _profile_file(home: Path, name: str | None) -> Path | None:
    """``$CODEX_HOME/NAME.config.toml`` when it exists (0.163's profile file)."""
    if name is None or not name or "/" in name or name.startswith("."):
        return None
    path = home / f"{name}.config.toml"
    return path if path.is_file() else None


def _read_profile_file(path: Path) -> dict[str, Any]:
    table = read_config_file(path)
    convert_table(table, ConfigProfile, source_for=lambda _loc: str(path))
    return table


#: Tables a profile file may hold beside the profile keys, merged entry by entry.
_LAYER_TABLES = frozenset({"model_providers", "mcp_servers"})


def _merge_layer_tables(base: dict[str, Any], layer: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``layer``'s provider and server entries merged in (key by key); ``base``
    itself when the layer has none."""
    merged: dict[str, Any] | None = None
    for table in sorted(_LAYER_TABLES):
        entries = layer.get(table)
        if not isinstance(entries, Mapping) or not entries:
            continue
        merged = dict(base) if merged is None else merged
        combined = dict(merged.get(table) or {})
        for name, entry in entries.items():
            below = combined.get(name)
            if isinstance(below, Mapping) and isinstance(entry, Mapping):
                combined[name] = {**below, **entry}
            else:
                combined[name] = entry
        merged[table] = combined
    return base if merged is None else merged


def _ignored_keys(file_table: Mapping[str, Any], file_source: str) -> list[str]:
    return ignored_keys_warnings(
        file_table,
        source=file_source,
        known=model_keys(ConfigToml),
        profile_known=model_keys(ConfigProfile),
    )


def load_config(
    *,
    codex_home: Path | None = None,
    overrides: Sequence[Override] = (),
    profile: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Read config.toml under `codex_home`, select the profile, apply `-c` overrides, validate.

    Precedence (lowest first): built-in defaults, top-level keys, the profile (`-p NAME`:
    `$CODEX_HOME/NAME.config.toml` if it exists, else `[profiles.NAME]`), overrides.
    `profile` (the `--profile` flag) beats the file's `profile` key.
    """
    env = os.environ if env is None else env
    home = resolve_codex_home(codex_home, env)
    config_path = home / "config.toml"
    file_source = str(config_path)
    work_dir = (cwd or Path.cwd()).resolve()
    overrides = [(list(path), value) for path, value in overrides if path]

    file_table = read_config_file(config_path)
    convert_table(file_table, ConfigToml, source_for=lambda _loc: file_source)

    with_cli = apply_overrides(file_table, overrides)
    # The file alone was valid, so whatever is wrong now came from the command line.
    convert_table(with_cli, ConfigToml, source_for=lambda _loc: OVERRIDE_SOURCE)

    def source_for(loc: Sequence[str | int]) -> str:
        return OVERRIDE_SOURCE if _touches(loc, overrides) else file_source

    ignored_warnings = _ignored_keys(file_table, file_source)

    # -- profile: its keys replace top-level ones; `-c` on top-level keys still wins.
    profile_name = profile if profile is not None else with_cli.get("profile")
    profiles: dict[str, Any] = with_cli.get("profiles") or {}
    profile_table: dict[str, Any] = {}
    profile_source = f"[profiles.{profile_name}] in {file_source}"
    profile_file = _profile_file(home, profile_name) if profile is not None else None
    if profile_file is not None:
        # As 0.163: `-p NAME` layers $CODEX_HOME/NAME.config.toml over config.toml, and refuses
        # a legacy [profiles.NAME] table (or `profile = "NAME"`) for the same name beside it.
        if profile_name in profiles or file_table.get("profile") == profile_name:
            raise ConfigError(
                f"--profile {profile_name} is defined twice: in {profile_file} and as "
                f'[profiles.{profile_name}] (or `profile = "{profile_name}"`) in {file_source}; '
                f"move those settings into {profile_file} and remove them from {file_source}"
            )
        profile_table = _read_profile_file(profile_file)
        profile_source = str(profile_file)
        ignored_warnings += ignored_keys_warnings(
            profile_table,
            source=profile_source,
            known=model_keys(ConfigProfile) | _LAYER_TABLES,
            profile_known=model_keys(ConfigProfile),
        )
        # A profile file is a whole config layer (as 0.163): its provider and server tables
        # merge entry by entry over config.toml's, under the command line's overrides.
        layered = _merge_layer_tables(file_table, profile_table)
        if layered is not file_table:
            with_cli = apply_overrides(layered, overrides)
            convert_table(with_cli, ConfigToml, source_for=lambda _loc: profile_source)
            in_file = profile_source

            def source_for(loc: Sequence[str | int]) -> str:
                if _touches(loc, overrides):
                    return OVERRIDE_SOURCE
                if len(loc) >= 2 and loc[1] in (profile_table.get(str(loc[0])) or {}):
                    return in_file
                return file_source
    elif profile_name is not None:
        if profile_name not in profiles:
            known = ", ".join(sorted(profiles)) or "none defined"
            origin = (
                "--profile" if profile is not None else f"`profile` in {source_for(['profile'])}"
            )
            raise ConfigError(
                f"profile {profile_name!r} (from {origin}) is not defined in {file_source} "
                f"(profiles: {known}) and {home / f'{profile_name}.config.toml'} does not exist; "
                "create that file or pick another name"
            )
        profile_table = dict(profiles[profile_name])
    top_level_cli = [o for o in overrides if o[0][0] not in ("profile", "profiles", "features")]
    effective = dict(with_cli)
    effective.update(
        {k: v for k, v in profile_table.items() if k != "features" and k not in _LAYER_TABLES}
    )
    if isinstance(profile_table.get(POLICY_TABLE), dict):
        # Merged key by key, as the reference layers a profile over config.toml.
        effective[POLICY_TABLE] = {
            **(with_cli.get(POLICY_TABLE) or {}),
            **profile_table[POLICY_TABLE],
        }
    effective = apply_overrides(effective, top_level_cli)

    def key_source(key: str) -> str:
        if _touches([key], top_level_cli):
            return OVERRIDE_SOURCE
        if key in profile_table:
            return profile_source
        return source_for([key])

    # Each layer was valid on its own; checked again all the same (and typed from here on).
    parsed = convert_table(
        effective,
        ConfigToml,
        source_for=lambda loc: key_source(str(loc[0])) if loc else file_source,
    )

    # -- features
    cli_features = apply_overrides({}, [o for o in overrides if o[0][0] == "features"])
    suppress = bool(parsed.suppress_unstable_features_warning)
    features, feature_warnings = Features.resolve(
        file_table.get("features"),
        cli_features.get("features"),
        profile_table=profile_table.get("features"),
        profile_name=profile_name,
        suppress_unstable_warning=suppress,
        config_path=file_source,
    )

    # -- providers
    providers = resolve_providers(
        parsed.model_providers or {},
        openai_base_url=parsed.openai_base_url or env.get("OPENAI_BASE_URL", "").strip() or None,
        source_for=source_for,
    )
    provider_id = parsed.model_provider or OPENAI_PROVIDER_ID
    if provider_id not in providers:
        raise ConfigError(
            f"model_provider {provider_id!r} (from {key_source('model_provider')}) is not a known "
            f"provider; known: {', '.join(sorted(providers))}. Define it in a "
            f"[model_providers.{provider_id}] table in {file_source} or choose a known id."
        )

    def policy_key_source(key: str) -> str:
        if _touches([POLICY_TABLE, key], top_level_cli):
            return OVERRIDE_SOURCE
        if key in (profile_table.get(POLICY_TABLE) or {}):
            return profile_source
        return file_source

    shell_policy, shell_warnings = resolve_shell_environment_policy(
        parsed.shell_environment_policy,
        source_for=policy_key_source,
        written=effective.get(POLICY_TABLE),
    )
    mcp_servers, mcp_warnings = parse_mcp_servers(
        with_cli.get("mcp_servers"), source_for=source_for
    )
    feature_warnings = [*ignored_warnings, *feature_warnings, *shell_warnings, *mcp_warnings]

    web_search = parsed.web_search
    if web_search is None:
        if features.enabled("web_search_cached"):
            web_search = "cached"
        elif features.enabled("web_search_request"):
            web_search = "live"

    return Config(
        codex_home=home,
        config_path=config_path,
        cwd=work_dir,
        profile=profile_name,
        model=parsed.model or DEFAULT_MODEL,
        model_provider_id=provider_id,
        model_provider=providers[provider_id],
        model_providers=providers,
        features=features,
        feature_warnings=feature_warnings,
        model_context_window=parsed.model_context_window,
        model_auto_compact_token_limit=parsed.model_auto_compact_token_limit,
        model_reasoning_effort=parsed.model_reasoning_effort,
        model_reasoning_summary=parsed.model_reasoning_summary or "auto",
        model_verbosity=parsed.model_verbosity,
        model_supports_reasoning_summaries=parsed.model_supports_reasoning_summaries,
        base_instructions=_resolve_base_instructions(
            parsed, key_source=key_source, config_dir=home, cwd=work_dir
        ),
        developer_instructions=parsed.developer_instructions,
        approval_policy=parsed.approval_policy or "on-request",
        sandbox_mode=parsed.sandbox_mode or "read-only",
        web_search=web_search,
        chatgpt_base_url=parsed.chatgpt_base_url or DEFAULT_CHATGPT_BASE_URL,
        forced_login_method=parsed.forced_login_method,
        forced_chatgpt_workspace_id=parsed.forced_chatgpt_workspace_id,
        cli_auth_credentials_store=parsed.cli_auth_credentials_store or "file",
        suppress_unstable_features_warning=suppress,
        openai_base_url=parsed.openai_base_url,
        otel=dict(parsed.otel or {}),
        tool_output_token_limit=parsed.tool_output_token_limit,
        shell_environment_policy=shell_policy,
        project_doc_max_bytes=(
            DEFAULT_PROJECT_DOC_MAX_BYTES
            if parsed.project_doc_max_bytes is None
            else parsed.project_doc_max_bytes
        ),
        project_doc_fallback_filenames=tuple(parsed.project_doc_fallback_filenames or ()),
        mcp_servers=mcp_servers,
        update_plan_tool=bool(
            parsed.tools and parsed.tools.update_plan and parsed.tools.update_plan.enabled
        ),
    )


def _resolve_base_instructions(
    parsed: ConfigToml, *, key_source: Callable[[str], str], config_dir: Path, cwd: Path
) -> str | None:
    """`base_instructions` wins; else read `experimental_instructions_file` (or its new name)."""
    if parsed.base_instructions is not None:
        return parsed.base_instructions
    for key in ("model_instructions_file", "experimental_instructions_file"):
        raw = getattr(parsed, key)
        if raw is None:
            continue
        source: str = key_source(key)
        # Relative paths in a file are relative to that file; on the command line, to the cwd.
        base_dir = cwd if source == OVERRIDE_SOURCE else config_dir
        path = Path(raw).expanduser()
        if not path.is_absolute():
            path = base_dir / path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise ConfigError(
                f"cannot read {path} named by `{key}` ({source}): {reason}. "
                "Fix the path or remove the key."
            ) from None
        if not text.strip():
            raise ConfigError(
                f"{path} named by `{key}` ({source}) is empty. "
                "Write the instructions into it or remove the key."
            )
        return text
    return None

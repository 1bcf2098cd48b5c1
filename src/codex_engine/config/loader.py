"""Load `$CODEX_HOME/config.toml`, apply the profile and `-c` overrides, validate into `Config`.

Every problem surfaces as a one-line ConfigError naming the key, where it came from and the fix.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from codex_engine.config.catalog import DEFAULT_MODEL, ModelInfo, ReasoningEffort, find_model_info
from codex_engine.config.features import Features
from codex_engine.config.overrides import Override, apply_overrides, format_key_path
from codex_engine.config.providers import (
    OPENAI_PROVIDER_ID,
    ModelProviderInfo,
    built_in_providers,
)
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
OVERRIDE_SOURCE = "-c override"

ReasoningSummary = Literal["auto", "concise", "detailed", "none"]
Verbosity = Literal["low", "medium", "high"]
ApprovalPolicy = Literal["untrusted", "on-failure", "on-request", "never"]
SandboxMode = Literal["read-only", "workspace-write", "danger-full-access"]
WebSearchMode = Literal["disabled", "cached", "live"]
ForcedLoginMethod = Literal["chatgpt", "api"]
AuthCredentialsStore = Literal["file", "keyring", "auto", "ephemeral"]

_PositiveInt = Field(default=None, gt=0)


class ConfigProfile(BaseModel):
    """Keys allowed both at the top level and inside `[profiles.<name>]`.

    Unknown keys are ignored (users' files carry keys of other Codex versions); known keys are
    type-checked strictly so `model_context_window = "big"` is an error, not a surprise.
    """

    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    model: str | None = None
    model_provider: str | None = None
    features: dict[str, Any] | None = None
    model_context_window: int | None = _PositiveInt
    model_auto_compact_token_limit: int | None = _PositiveInt
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
    tool_output_token_limit: int | None = _PositiveInt


class ConfigToml(ConfigProfile):
    """The whole `config.toml` as written (before profile and override resolution)."""

    profile: str | None = None
    profiles: dict[str, ConfigProfile] | None = None
    # Provider tables are validated one by one (merged over built-ins) by the loader.
    model_providers: dict[str, dict[str, Any]] | None = None
    otel: dict[str, Any] | None = None


@dataclass(frozen=True)
class Config:
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
    otel: dict[str, Any] = field(default_factory=dict)
    tool_output_token_limit: int | None = None

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


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing file is an empty table. Errors are one-line ConfigErrors."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"{path}: cannot read config file: {reason}; check the path") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: config file is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8"
        ) from exc
    try:
        return tomllib.loads(text)
    except RecursionError:  # tomllib recurses once per level of nested arrays or tables
        raise ConfigError(
            f"{path}: values are nested too deeply to read; flatten them or move the file away"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc).splitlines()[0] if str(exc) else "parse error"
        line, col = 0, 0
        if match := _TOML_POSITION.search(message):
            line, col = int(match.group(1)), int(match.group(2))
            message = message[: match.start()]
        elif match := _TOML_AT_END.search(message):
            lines = text.splitlines() or [""]
            line, col = len(lines), len(lines[-1]) + 1
            message = message[: match.start()] + " at end of file"
        where = f"{path}:{line}:{col}" if line else str(path)
        raise ConfigError(
            f"{where}: invalid TOML: {message}. Fix the syntax or move the file away."
        ) from None


# -- validation errors ------------------------------------------------------------------------

_EXPECTED_BY_TYPE = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "list_type": "an array",
}


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind in _EXPECTED_BY_TYPE:
        return _EXPECTED_BY_TYPE[kind]
    if kind == "literal_error":
        return "one of " + str(ctx.get("expected", "")).replace("'", '"')
    if kind == "greater_than":
        return f"an integer greater than {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"an integer >= {ctx.get('ge')}"
    return str(err.get("msg", "a valid value"))


def _validation_error(
    exc: ValidationError,
    *,
    source_for: Callable[[Sequence[str | int]], str],
    prefix: tuple[str | int, ...] = (),
    known_keys: Sequence[str] = (),
) -> ConfigError:
    """Turn the first pydantic error into one line: key path, source, expectation, fix."""
    err = exc.errors(include_url=False)[0]
    loc = prefix + tuple(err.get("loc", ()))
    key = format_key_path(loc)
    source: str = source_for(loc)
    fix_where = "the -c value" if source == OVERRIDE_SOURCE else source
    kind = err.get("type")
    if kind == "extra_forbidden":
        table = format_key_path(loc[:-1])
        known = f"; known keys: {', '.join(known_keys)}" if known_keys else ""
        return ConfigError(
            f"unknown key `{loc[-1]}` in [{table}] ({source}){known}. "
            f"Fix the spelling or remove it from {fix_where}."
        )
    if kind == "missing":
        return ConfigError(f"missing required key `{key}` ({source}). Add it to {fix_where}.")
    if kind == "value_error":
        reason = str(err.get("msg", "")).removeprefix("Value error, ")
        return ConfigError(f"invalid value for `{key}` ({source}): {reason}")
    return ConfigError(
        f"invalid value for `{key}` ({source}): expected {_expected(err)}, "
        f"got {_show(err.get('input'))}. {_fix_hint(source)}"
    )


def _fix_hint(source: str) -> str:
    if source == OVERRIDE_SOURCE:
        return "Fix the -c value."
    return f"Fix it in {source} or remove the key."


def _touches(path: Sequence[str | int], overrides: Sequence[Override]) -> bool:
    """Whether an override set this path, a table containing it, or something inside it."""
    for opath, _ in overrides:
        n = min(len(opath), len(path))
        if list(path[:n]) == list(opath[:n]):
            return True
    return False


# -- loading ----------------------------------------------------------------------------------


def load_config(
    *,
    codex_home: Path | None = None,
    overrides: Sequence[Override] = (),
    profile: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Read config.toml under `codex_home`, select the profile, apply `-c` overrides, validate.

    Precedence (lowest first): built-in defaults, top-level keys, `[profiles.<p>]`, overrides.
    `profile` (the `--profile` flag) beats the file's `profile` key.
    """
    env = os.environ if env is None else env
    home = resolve_codex_home(codex_home, env)
    config_path = home / "config.toml"
    file_source = str(config_path)
    work_dir = (cwd or Path.cwd()).resolve()
    overrides = [(list(path), value) for path, value in overrides if path]

    file_table = read_config_file(config_path)
    try:
        ConfigToml.model_validate(file_table)
    except ValidationError as exc:
        raise _validation_error(exc, source_for=lambda _loc: file_source) from None

    with_cli = apply_overrides(file_table, overrides)
    try:
        ConfigToml.model_validate(with_cli)
    except ValidationError as exc:
        # The file alone was valid, so whatever is wrong now came from the command line.
        raise _validation_error(exc, source_for=lambda _loc: OVERRIDE_SOURCE) from None

    def source_for(loc: Sequence[str | int]) -> str:
        return OVERRIDE_SOURCE if _touches(loc, overrides) else file_source

    # -- profile: its keys replace top-level ones; `-c` on top-level keys still wins.
    profile_name = profile if profile is not None else with_cli.get("profile")
    profiles: dict[str, Any] = with_cli.get("profiles") or {}
    profile_table: dict[str, Any] = {}
    if profile_name is not None:
        if profile_name not in profiles:
            known = ", ".join(sorted(profiles)) or "none defined"
            origin = (
                "--profile" if profile is not None else f"`profile` in {source_for(['profile'])}"
            )
            raise ConfigError(
                f"profile {profile_name!r} (from {origin}) is not defined in {file_source} "
                f"(profiles: {known}); add a [profiles.{profile_name}] table or pick another name"
            )
        profile_table = dict(profiles[profile_name])
    top_level_cli = [o for o in overrides if o[0][0] not in ("profile", "profiles", "features")]
    effective = dict(with_cli)
    effective.update({k: v for k, v in profile_table.items() if k != "features"})
    effective = apply_overrides(effective, top_level_cli)
    parsed = ConfigToml.model_validate(effective)

    def key_source(key: str) -> str:
        if _touches([key], top_level_cli):
            return OVERRIDE_SOURCE
        if key in profile_table:
            return f"[profiles.{profile_name}] in {file_source}"
        return source_for([key])

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
    providers = _resolve_providers(
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
    )


_PROVIDER_KEYS = tuple(ModelProviderInfo.model_fields)


def _resolve_providers(
    tables: Mapping[str, Mapping[str, Any]],
    *,
    openai_base_url: str | None,
    source_for: Callable[[Sequence[str | int]], str],
) -> dict[str, ModelProviderInfo]:
    """Built-ins, with user tables merged field by field over same-id built-ins or added."""
    providers = built_in_providers()
    for provider_id, table in tables.items():
        base = providers.get(provider_id)
        # exclude_unset keeps the merge honest: only fields the built-in set are inherited.
        data: dict[str, Any] = (
            base.model_dump(exclude_unset=True) if base is not None else {"name": provider_id}
        )
        data.update(table)
        try:
            providers[provider_id] = ModelProviderInfo.model_validate(data)
        except ValidationError as exc:
            raise _validation_error(
                exc,
                source_for=source_for,
                prefix=("model_providers", provider_id),
                known_keys=_PROVIDER_KEYS,
            ) from None
    openai = providers.get(OPENAI_PROVIDER_ID)
    if openai is not None and openai_base_url and openai.base_url is None:
        providers[OPENAI_PROVIDER_ID] = openai.model_copy(update={"base_url": openai_base_url})
    return providers


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

"""The bundled model catalog (`models.json`) and `ModelInfo` lookups with config overrides.

Entries whose `base_instructions` is null use `prompts/base_instructions.md` (SPEC §10).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "DEFAULT_CONTEXT_WINDOW",
    "DEFAULT_MODEL",
    "ModelInfo",
    "ModelUpgrade",
    "ReasoningEffort",
    "ReasoningEffortPreset",
    "TruncationPolicy",
    "bundled_models",
    "default_base_instructions",
    "fallback_model_info",
    "find_model_info",
    "list_models",
]

#: The model used when none is configured: the reference 0.163's default with API-key auth (its
#: `exec` banner, and the entry its `model/list` marks `isDefault`).
DEFAULT_MODEL = "gpt-6.1-sol"
#: Publicly documented context window of the GPT-5 Codex family; also the unknown-model fallback.
DEFAULT_CONTEXT_WINDOW = 272_000
_AUTO_COMPACT_PERCENT = 90
#: Rough bytes per token, to turn a token budget into a byte budget for bytes-mode truncation.
_BYTES_PER_TOKEN = 4

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max", "ultra"]
Verbosity = Literal["low", "medium", "high"]


#: The package's data files. A plain path, not importlib.resources: the package is always files on
#: disk (hatch builds no zip), and importlib.resources with its readers costs ~10 ms to import.
_PACKAGE_DATA = Path(__file__).parent


@cache
def default_base_instructions() -> str:
    """codex-engine's own default system prompt (package data)."""
    return (_PACKAGE_DATA / "prompts" / "base_instructions.md").read_text(encoding="utf-8")


# defer_build on the catalog's models: their validators are built on first use, and the nested
# ones inside ModelInfo's, instead of each at import (measured: less work for an exec, which
# validates only one entry).


class ReasoningEffortPreset(BaseModel):
    """One selectable reasoning level with a short description for pickers."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    effort: ReasoningEffort
    description: str = ""


class ModelUpgrade(BaseModel):
    """A suggested successor model."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    model: str
    migration_markdown: str | None = None


class TruncationPolicy(BaseModel):
    """How tool output is cut down before it goes back to the model."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    mode: Literal["bytes", "tokens"]
    limit: int


class ModelInfo(BaseModel):
    """Per-model metadata. Unknown fields are kept so newer server catalogs round-trip."""

    model_config = ConfigDict(extra="allow", defer_build=True)

    slug: str
    display_name: str
    description: str | None = None
    default_reasoning_level: ReasoningEffort | None = None
    supported_reasoning_levels: list[ReasoningEffortPreset] = Field(default_factory=list)
    shell_type: Literal["default", "local", "unified_exec", "disabled", "shell_command"] = "default"
    visibility: Literal["list", "hide", "none"] = "none"
    supported_in_api: bool = True
    priority: int = 99
    upgrade: ModelUpgrade | None = None
    base_instructions: str = Field(default_factory=default_base_instructions)
    supports_reasoning_summaries: bool = False
    support_verbosity: bool = False
    default_verbosity: Verbosity | None = None
    apply_patch_tool_type: Literal["freeform", "function"] | None = None
    truncation_policy: TruncationPolicy = Field(
        default_factory=lambda: TruncationPolicy(mode="bytes", limit=10_000)
    )
    supports_parallel_tool_calls: bool = False
    context_window: int | None = None
    auto_compact_token_limit: int | None = None
    effective_context_window_percent: int = 95
    experimental_supported_tools: list[str] = Field(default_factory=list)
    input_modalities: list[str] = Field(default_factory=lambda: ["text", "image"])
    prefer_websockets: bool = False
    #: Set when the slug was not in the catalog; internal, never serialized.
    used_fallback_model_metadata: bool = Field(default=False, exclude=True)

    @field_validator("base_instructions", mode="before")
    @classmethod
    def _default_instructions(cls, value: Any) -> Any:
        # The bundled JSON stores null so the prompt text lives in one readable Markdown file.
        return default_base_instructions() if value is None else value

    def effective_auto_compact_limit(self) -> int | None:
        """The explicit limit, else 90% of the context window, else None (no window known)."""
        if self.auto_compact_token_limit is not None:
            return self.auto_compact_token_limit
        if self.context_window is None:
            return None
        return self.context_window * _AUTO_COMPACT_PERCENT // 100

    def effective_context_window(self) -> int | None:
        """Usable window for token accounting: window * effective_context_window_percent / 100."""
        if self.context_window is None:
            return None
        return self.context_window * self.effective_context_window_percent // 100

    def supports_reasoning_effort(self, effort: str) -> bool:
        """Whether `effort` is one of this model's selectable levels."""
        return any(level.effort == effort for level in self.supported_reasoning_levels)


@cache
def _bundled_entries() -> tuple[dict[str, Any], ...]:
    """models.json's entries as parsed JSON, read once."""
    text = (_PACKAGE_DATA / "models.json").read_text("utf-8")
    return tuple(json.loads(text)["models"])


@cache
def _bundled() -> tuple[ModelInfo, ...]:
    return tuple(ModelInfo.model_validate(entry) for entry in _bundled_entries())


@cache
def _bundled_one(slug: str) -> ModelInfo | None:
    # One lookup (every exec) validates only its own entry, not the whole catalog.
    entry = next((e for e in _bundled_entries() if e.get("slug") == slug), None)
    return None if entry is None else ModelInfo.model_validate(entry)


def bundled_models() -> list[ModelInfo]:
    """Every bundled entry, in file order (copies; callers may not mutate the cache)."""
    return [m.model_copy(deep=True) for m in _bundled()]


def list_models(*, visible_only: bool = False, api_only: bool = False) -> list[ModelInfo]:
    """Bundled models sorted by priority (lower first), optionally only `list`/API ones."""
    models = [
        m
        for m in bundled_models()
        if (not visible_only or m.visibility == "list") and (not api_only or m.supported_in_api)
    ]
    return sorted(models, key=lambda m: (m.priority, m.slug))


def fallback_model_info(slug: str) -> ModelInfo:
    """Conservative metadata for a slug the catalog does not know (SPEC §10)."""
    return ModelInfo(
        slug=slug,
        display_name=slug,
        supported_reasoning_levels=[],
        shell_type="default",
        visibility="none",
        supported_in_api=True,
        priority=99,
        base_instructions=default_base_instructions(),
        supports_reasoning_summaries=False,
        support_verbosity=False,
        truncation_policy=TruncationPolicy(mode="bytes", limit=10_000),
        supports_parallel_tool_calls=False,
        context_window=DEFAULT_CONTEXT_WINDOW,
        auto_compact_token_limit=None,
        effective_context_window_percent=95,
        prefer_websockets=False,
        used_fallback_model_metadata=True,
    )


def find_model_info(
    slug: str,
    *,
    context_window: int | None = None,
    auto_compact_token_limit: int | None = None,
    base_instructions: str | None = None,
    tool_output_token_limit: int | None = None,
    supports_reasoning_summaries: bool | None = None,
    catalog: list[ModelInfo] | None = None,
) -> tuple[ModelInfo, str | None]:
    """Look `slug` up (in `catalog`, default the bundled one) and apply config overrides.

    Returns the info and a warning for unknown slugs, which get fallback metadata.
    """
    if catalog is None:
        found = _bundled_one(slug)
    else:
        found = next((m for m in catalog if m.slug == slug), None)
    warning: str | None = None
    if found is None:
        info = fallback_model_info(slug)
        warning = (
            f"Unknown model {slug!r}: it is not in codex-engine's catalog, so generic fallback "
            f"metadata is used ({DEFAULT_CONTEXT_WINDOW}-token window, no reasoning options). "
            "Check the model name, or set model_context_window if the window differs."
        )
    else:
        info = found.model_copy(deep=True)

    update: dict[str, Any] = {}
    if context_window is not None:
        update["context_window"] = context_window
    if auto_compact_token_limit is not None:
        update["auto_compact_token_limit"] = auto_compact_token_limit
    if base_instructions is not None:
        update["base_instructions"] = base_instructions
    if supports_reasoning_summaries:
        # Only forcing on makes sense: a model either streams summaries or ignores the request.
        update["supports_reasoning_summaries"] = True
    if tool_output_token_limit is not None:
        policy = info.truncation_policy
        limit = (
            tool_output_token_limit
            if policy.mode == "tokens"
            else tool_output_token_limit * _BYTES_PER_TOKEN
        )
        update["truncation_policy"] = TruncationPolicy(mode=policy.mode, limit=limit)
    if update:
        info = info.model_copy(update=update)
    return info, warning

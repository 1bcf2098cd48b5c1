"""Model providers: the `[model_providers.<id>]` tables, the built-ins, and their URLs/headers.

Retry and timeout knobs live here too because they are per provider (SPEC §12.1).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from codex_engine.config.config_file import validation_error
from codex_engine.errors import AuthError
from codex_engine.protocol.headers import provider_headers

__all__ = [
    "CHATGPT_BASE_URL",
    "DEFAULT_OPENAI_BASE_URL",
    "DEFAULT_REQUEST_MAX_RETRIES",
    "DEFAULT_STREAM_IDLE_TIMEOUT_MS",
    "DEFAULT_STREAM_MAX_RETRIES",
    "DEFAULT_WEBSOCKET_CONNECT_TIMEOUT_MS",
    "EMULATOR_BASE_URL",
    "EMULATOR_PROVIDER_ID",
    "MAX_RETRIES_CAP",
    "OPENAI_PROVIDER_ID",
    "ModelProviderInfo",
    "built_in_providers",
    "chatgpt_responses_base_url",
    "resolve_providers",
]

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
CHATGPT_BASE_URL = "https://chatgpt.com/backend-api/codex"
EMULATOR_BASE_URL = "http://127.0.0.1:8765/v1"
OPENAI_PROVIDER_ID = "openai"
EMULATOR_PROVIDER_ID = "emulator"

DEFAULT_REQUEST_MAX_RETRIES = 4
DEFAULT_STREAM_MAX_RETRIES = 5
DEFAULT_STREAM_IDLE_TIMEOUT_MS = 300_000
DEFAULT_WEBSOCKET_CONNECT_TIMEOUT_MS = 15_000
#: A typo like `request_max_retries = 10000` must not turn into hours of retrying.
MAX_RETRIES_CAP = 100

# Hosts that identify Azure OpenAI Responses endpoints (they need `store: true`, SPEC §1.2).
_AZURE_MARKERS = (
    "openai.azure.",
    "cognitiveservices.azure.",
    "aoai.azure.",
    "azure-api.",
    "azurefd.",
    "windows.net/openai",
)


def chatgpt_responses_base_url(chatgpt_base_url: str) -> str:
    """Responses base under `chatgpt_base_url`: `.../backend-api/` -> `.../backend-api/codex`."""
    base = chatgpt_base_url.rstrip("/")
    return base if base.endswith("/codex") else base + "/codex"


class ModelProviderInfo(BaseModel):
    """One provider table. Unknown keys are errors so a misspelt key does not silently vanish."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    name: str
    base_url: str | None = None
    env_key: str | None = None
    env_key_instructions: str | None = None
    experimental_bearer_token: str | None = None
    wire_api: Literal["responses"] = "responses"
    query_params: dict[str, str] | None = None
    http_headers: dict[str, str] | None = None
    env_http_headers: dict[str, str] | None = None
    request_max_retries: int | None = Field(default=None, ge=0)
    stream_max_retries: int | None = Field(default=None, ge=0)
    stream_idle_timeout_ms: int | None = Field(default=None, gt=0)
    websocket_connect_timeout_ms: int | None = Field(default=None, gt=0)
    requires_openai_auth: bool = False
    supports_websockets: bool = False
    # Set by `with_chatgpt_base_url`, not by config tables: where ChatGPT-auth requests go.
    _chatgpt_base_url: str | None = PrivateAttr(default=None)

    @field_validator("wire_api", mode="before")
    @classmethod
    def _only_responses(cls, value: Any) -> Any:
        if value != "responses":
            # The Chat Completions wire protocol was dropped on purpose; say so instead of a
            # bare "literal error" so users of older configs know what to change.
            raise ValueError(
                f'wire_api = "{value}" is not supported; only "responses" (the Responses API) '
                'is supported: set wire_api = "responses" or remove the key'
            )
        return value

    # -- effective values -------------------------------------------------------------------

    def request_max_retries_effective(self) -> int:
        """Retries for establishing a request (transport level), capped at 100."""
        value = self.request_max_retries
        return min(DEFAULT_REQUEST_MAX_RETRIES if value is None else value, MAX_RETRIES_CAP)

    def stream_max_retries_effective(self) -> int:
        """Retries of a broken response stream (turn level), capped at 100."""
        value = self.stream_max_retries
        return min(DEFAULT_STREAM_MAX_RETRIES if value is None else value, MAX_RETRIES_CAP)

    def stream_idle_timeout_ms_effective(self) -> int:
        """Milliseconds without a stream event before the stream counts as dead."""
        value = self.stream_idle_timeout_ms
        return DEFAULT_STREAM_IDLE_TIMEOUT_MS if value is None else value

    def stream_idle_timeout_seconds(self) -> float:
        """`stream_idle_timeout_ms_effective()` in seconds, for asyncio timeouts."""
        return self.stream_idle_timeout_ms_effective() / 1000.0

    def websocket_connect_timeout_ms_effective(self) -> int:
        """Milliseconds allowed for the WebSocket handshake."""
        value = self.websocket_connect_timeout_ms
        return DEFAULT_WEBSOCKET_CONNECT_TIMEOUT_MS if value is None else value

    def websocket_connect_timeout_seconds(self) -> float:
        """`websocket_connect_timeout_ms_effective()` in seconds, for asyncio timeouts."""
        return self.websocket_connect_timeout_ms_effective() / 1000.0

    # -- identity and URLs ------------------------------------------------------------------

    def is_openai(self) -> bool:
        """True for the built-in OpenAI provider (request compression is gated on this)."""
        return self.name == "OpenAI"

    def is_azure_responses_endpoint(self, provider_id: str | None = None) -> bool:
        """Azure endpoints keep items server side (`store: true`) and need item ids echoed."""
        if (provider_id or "").lower() == "azure" or self.name.lower() == "azure":
            return True
        base = (self.base_url or "").lower()
        return any(marker in base for marker in _AZURE_MARKERS)

    def with_chatgpt_base_url(self, chatgpt_base_url: str | None) -> ModelProviderInfo:
        """A copy whose ChatGPT-auth requests go under the configured `chatgpt_base_url`."""
        copy = self.model_copy()
        copy._chatgpt_base_url = (
            chatgpt_responses_base_url(chatgpt_base_url) if chatgpt_base_url else None
        )
        return copy

    def api_base_url(self, is_chatgpt: bool) -> str:
        """Provider base_url if set; else the ChatGPT backend for ChatGPT auth; else OpenAI's."""
        if self.base_url:
            return self.base_url
        if is_chatgpt:
            return self._chatgpt_base_url or CHATGPT_BASE_URL
        return DEFAULT_OPENAI_BASE_URL

    def url_for_path(self, path: str, *, is_chatgpt: bool) -> str:
        """Join `path` to the base URL with exactly one `/` and append `query_params`."""
        url = self.api_base_url(is_chatgpt).rstrip("/") + "/" + path.lstrip("/")
        if self.query_params:
            url += ("&" if "?" in url else "?") + urlencode(self.query_params)
        return url

    def responses_url(self, *, is_chatgpt: bool = False) -> str:
        """URL of `POST {base}/responses`."""
        return self.url_for_path("responses", is_chatgpt=is_chatgpt)

    def websocket_responses_url(self, *, is_chatgpt: bool = False) -> str:
        """The Responses URL with `http`->`ws` and `https`->`wss` (SPEC §2.2)."""
        url = self.responses_url(is_chatgpt=is_chatgpt)
        if url.startswith("https://"):
            return "wss://" + url[len("https://") :]
        if url.startswith("http://"):
            return "ws://" + url[len("http://") :]
        return url

    # -- credentials and headers ------------------------------------------------------------

    def api_key_from_env(self, env: Mapping[str, str]) -> str | None:
        """The key from `env_key`, None when the provider has no `env_key`.

        Raises AuthError when `env_key` is set but the variable is missing or empty.
        """
        if not self.env_key:
            return None
        value = env.get(self.env_key, "").strip()
        if value:
            return value
        hint = f" {self.env_key_instructions}" if self.env_key_instructions else ""
        raise AuthError(
            f"environment variable {self.env_key} is not set; provider {self.name!r} reads its "
            f"API key from it: export {self.env_key}=<key>.{hint}"
        )

    def headers(self, env: Mapping[str, str]) -> dict[str, str]:
        """Static `http_headers` plus `env_http_headers` whose variable is set and non-empty."""
        return provider_headers(self.http_headers, self.env_http_headers, env)


def built_in_providers() -> dict[str, ModelProviderInfo]:
    """The providers every config has; user tables with the same id are merged over them."""
    return {
        OPENAI_PROVIDER_ID: ModelProviderInfo(
            name="OpenAI",
            # None: api.openai.com for API keys, the ChatGPT backend for ChatGPT sign-in.
            base_url=None,
            env_key=None,
            env_http_headers={
                "OpenAI-Organization": "OPENAI_ORGANIZATION",
                "OpenAI-Project": "OPENAI_PROJECT",
            },
            requires_openai_auth=True,
            supports_websockets=True,
        ),
        EMULATOR_PROVIDER_ID: ModelProviderInfo(
            name="codex-engine emulator",
            base_url=EMULATOR_BASE_URL,
            env_key=None,
            requires_openai_auth=False,
            supports_websockets=True,
        ),
    }


_PROVIDER_KEYS = tuple(ModelProviderInfo.model_fields)


def resolve_providers(
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
            raise validation_error(
                exc,
                source_for=source_for,
                prefix=("model_providers", provider_id),
                known_keys=_PROVIDER_KEYS,
            ) from None
    openai = providers.get(OPENAI_PROVIDER_ID)
    if openai is not None and openai_base_url and openai.base_url is None:
        providers[OPENAI_PROVIDER_ID] = openai.model_copy(update={"base_url": openai_base_url})
    return providers

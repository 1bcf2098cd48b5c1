"""Model providers: the `[model_providers.<id>]` tables, the built-ins, and their URLs/headers.

Retry and timeout knobs live here too because they are per provider (SPEC §12.1).
"""

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self
from urllib.parse import urlencode

import msgspec

from codex_engine.config.config_file import OVERRIDE_SOURCE, convert_table
from codex_engine.errors import AuthError, ConfigError
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


if TYPE_CHECKING:
    WireApi = Literal["responses"]
else:
    # Any value to msgspec, so `__post_init__` refuses anything but "responses" (even a number)
    # with a message naming the fix instead of a bare "invalid enum value".
    WireApi = Any

_NonNegative = Annotated[int, msgspec.Meta(ge=0)]
_Positive = Annotated[int, msgspec.Meta(gt=0)]


def _wire_api_problem(value: Any) -> str | None:
    if value == "responses":
        return None
    # The Chat Completions wire protocol was dropped on purpose; say so instead of a bare
    # "invalid value" so users of older configs know what to change.
    return (
        f'wire_api = "{value}" is not supported; only "responses" (the Responses API) '
        'is supported: set wire_api = "responses" or remove the key'
    )


class ModelProviderInfo(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One provider table. Unknown keys are errors so a misspelt key does not silently vanish."""

    name: str
    base_url: str | None = None
    env_key: str | None = None
    env_key_instructions: str | None = None
    experimental_bearer_token: str | None = None
    wire_api: WireApi = "responses"
    query_params: dict[str, str] | None = None
    http_headers: dict[str, str] | None = None
    env_http_headers: dict[str, str] | None = None
    request_max_retries: _NonNegative | None = None
    stream_max_retries: _NonNegative | None = None
    stream_idle_timeout_ms: _Positive | None = None
    websocket_connect_timeout_ms: _Positive | None = None
    requires_openai_auth: bool = False
    supports_websockets: bool = False
    # Set by `with_chatgpt_base_url`, never by config tables (`resolve_providers` refuses the
    # key): where ChatGPT-auth requests go.
    _chatgpt_base_url: str | None = None

    def __post_init__(self) -> None:
        if (problem := _wire_api_problem(self.wire_api)) is not None:
            raise ValueError(problem)

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

    def with_chatgpt_base_url(self, chatgpt_base_url: str | None) -> Self:
        """A copy whose ChatGPT-auth requests go under the configured `chatgpt_base_url`."""
        routed = chatgpt_responses_base_url(chatgpt_base_url) if chatgpt_base_url else None
        return msgspec.structs.replace(self, _chatgpt_base_url=routed)

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


#: The built-in providers as tables: a user table with the same id is merged over the keys
#: set here (only these are inherited).
_BUILT_IN_TABLES: dict[str, dict[str, Any]] = {
    OPENAI_PROVIDER_ID: {
        "name": "OpenAI",
        # None: api.openai.com for API keys, the ChatGPT backend for ChatGPT sign-in.
        "base_url": None,
        "env_key": None,
        "env_http_headers": {
            "OpenAI-Organization": "OPENAI_ORGANIZATION",
            "OpenAI-Project": "OPENAI_PROJECT",
        },
        "requires_openai_auth": True,
        "supports_websockets": True,
    },
    EMULATOR_PROVIDER_ID: {
        "name": "codex-engine emulator",
        "base_url": EMULATOR_BASE_URL,
        "env_key": None,
        "requires_openai_auth": False,
        "supports_websockets": True,
    },
}


def built_in_providers() -> dict[str, ModelProviderInfo]:
    """The providers every config has; user tables with the same id are merged over them."""
    return {
        provider_id: ModelProviderInfo(**copy.deepcopy(table))
        for provider_id, table in _BUILT_IN_TABLES.items()
    }


#: The keys a provider table may hold (the private field is not one).
_PROVIDER_KEYS = tuple(
    name for name in ModelProviderInfo.__struct_encode_fields__ if not name.startswith("_")
)


def resolve_providers(
    tables: Mapping[str, Mapping[str, Any]],
    *,
    openai_base_url: str | None,
    source_for: Callable[[Sequence[str | int]], str],
) -> dict[str, ModelProviderInfo]:
    """Built-ins, with user tables merged field by field over same-id built-ins or added."""
    providers = built_in_providers()
    for provider_id, table in tables.items():
        base = _BUILT_IN_TABLES.get(provider_id)
        # Only the keys the built-in table sets are inherited.
        data: dict[str, Any] = copy.deepcopy(base) if base is not None else {"name": provider_id}
        data.update(table)
        prefix = ("model_providers", provider_id)
        _check_keys(data, prefix=prefix, source_for=source_for)
        providers[provider_id] = convert_table(
            data,
            ModelProviderInfo,
            source_for=source_for,
            prefix=prefix,
            known_keys=_PROVIDER_KEYS,
        )
    openai = providers.get(OPENAI_PROVIDER_ID)
    if openai is not None and openai_base_url and openai.base_url is None:
        providers[OPENAI_PROVIDER_ID] = msgspec.structs.replace(openai, base_url=openai_base_url)
    return providers


def _check_keys(
    data: Mapping[str, Any],
    *,
    prefix: tuple[str, str],
    source_for: Callable[[Sequence[str | int]], str],
) -> None:
    """A private field written as a key is unknown (msgspec would take it)."""
    for key in data:
        if key.startswith("_") and key in ModelProviderInfo.__struct_encode_fields__:
            source = source_for((*prefix, key))
            fix_where = "the -c value" if source == OVERRIDE_SOURCE else source
            raise ConfigError(
                f"unknown key `{key}` in [{prefix[0]}.{prefix[1]}] ({source}); known keys: "
                f"{', '.join(_PROVIDER_KEYS)}. Fix the spelling or remove it from {fix_where}."
            )

"""The JSON Schema of the protocol codex-engine implements, generated from its message types
and laid out like the reference's ``generate-json-schema`` output (``v1/``, ``v2/``, method lists).
Fields marked ``EXPERIMENTAL_FIELD`` (``{"experimental": true}``) appear only with
``--experimental``."""

from typing import Any, Literal

import msgspec

from codex_engine.protocol.app_server.catalog import (
    CLIENT_REQUESTS,
    ROOT_TYPES,
    SERVER_NOTIFICATIONS,
    SERVER_REQUESTS,
    V1_TYPES,
    Message,
)

__all__ = ["DRAFT_07", "EXPERIMENTAL", "build_schemas", "message_schema"]

DRAFT_07 = "http://json-schema.org/draft-07/schema#"
#: The marker a field's ``json_schema_extra`` carries when only the experimental API has it.
EXPERIMENTAL = "experimental"

Mode = Literal["validation", "serialization"]
Json = dict[str, Any]


def _clean(node: Any, *, keep: bool) -> Any:
    """Drop (or just unmark, with ``keep``) experimental properties, and field titles."""
    if isinstance(node, list):
        return [_clean(v, keep=keep) for v in node]
    if not isinstance(node, dict):
        return node
    result = {k: _clean(v, keep=keep) for k, v in node.items() if k != EXPERIMENTAL}
    properties = node.get("properties")
    if isinstance(properties, dict):
        # A field needs no title: the property name says it already.
        for value in result["properties"].values():
            if isinstance(value, dict):
                value.pop("title", None)
    if isinstance(properties, dict) and not keep:
        dropped = {k for k, v in properties.items() if isinstance(v, dict) and v.get(EXPERIMENTAL)}
        result["properties"] = {k: v for k, v in result["properties"].items() if k not in dropped}
        if "required" in result:
            result["required"] = [k for k in result["required"] if k not in dropped]
    return result


def message_schema(message: Message, *, mode: Mode = "validation", experimental: bool) -> Json:
    """One message type as a draft-07 schema document titled with the reference's type name.

    ``mode`` is accepted for callers that name the direction; both directions share one schema.
    """
    del mode
    (root,), definitions = msgspec.json.schema_components(
        [message.model], ref_template="#/definitions/{name}"
    )
    ref = root.get("$ref")
    if isinstance(ref, str) and len(root) == 1:
        # A single type: inline it at the top, as the reference's files are laid out.
        root = definitions.pop(ref.rsplit("/", 1)[-1])
    document: Json = {"$schema": DRAFT_07, **root, "title": message.name}
    if definitions:
        document["definitions"] = dict(sorted(definitions.items()))
    stripped: Json = _clean(document, keep=experimental)
    return stripped


def _path(name: str) -> str:
    if name in ROOT_TYPES:
        return f"{name}.json"
    return f"{'v1' if name in V1_TYPES else 'v2'}/{name}.json"


def _variant(method: str, params: Message | None, *, with_id: bool) -> Json:
    properties: Json = {}
    required: list[str] = []
    if with_id:
        properties["id"] = {"type": ["string", "integer"]}
        required.append("id")
    properties["method"] = {"enum": [method], "type": "string"}
    required.append("method")
    if params is not None:
        properties["params"] = {"$ref": _path(params.name)}
        required.append("params")
    return {"type": "object", "properties": properties, "required": required}


def _listing(title: str, variants: list[Json]) -> Json:
    return {"$schema": DRAFT_07, "title": title, "oneOf": variants}


def build_schemas(*, experimental: bool) -> dict[str, Json]:
    """Relative path -> schema document, for every message codex-engine implements."""
    files: dict[str, Json] = {}

    def add(message: Message | None, mode: Mode) -> None:
        if message is not None:
            files[_path(message.name)] = message_schema(
                message, mode=mode, experimental=experimental
            )

    for shape in CLIENT_REQUESTS.values():
        add(shape.params, "validation")
        add(shape.result, "serialization")
    for notification in SERVER_NOTIFICATIONS.values():
        add(notification, "serialization")
    for shape in SERVER_REQUESTS.values():
        add(shape.params, "serialization")
        add(shape.result, "validation")
    files["ClientRequest.json"] = _listing(
        "ClientRequest",
        [_variant(m, s.params, with_id=True) for m, s in sorted(CLIENT_REQUESTS.items())],
    )
    files["ServerNotification.json"] = _listing(
        "ServerNotification",
        [_variant(m, n, with_id=False) for m, n in sorted(SERVER_NOTIFICATIONS.items())],
    )
    files["ServerRequest.json"] = _listing(
        "ServerRequest",
        [_variant(m, s.params, with_id=True) for m, s in sorted(SERVER_REQUESTS.items())],
    )
    return files

"""XML text escaping for the model-visible context blocks, without ``xml.sax``.

``xml.sax.saxutils.escape`` would bring the SAX package (and urllib) into every session.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["escape"]


def escape(text: str, entities: Mapping[str, str] | None = None) -> str:
    """``text`` with ``&``, ``<`` and ``>`` (then ``entities``' keys) escaped, exactly as
    ``xml.sax.saxutils.escape`` does."""
    text = text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    for plain, entity in (entities or {}).items():
        text = text.replace(plain, entity)
    return text

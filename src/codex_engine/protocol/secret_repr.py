"""Reprs that leave secrets out: a mixin for msgspec Structs that hold tokens or keys.

A Struct's own repr (and its ``__rich_repr__``) shows every field; dataclasses had
``field(repr=False)`` for this, Structs have no per-field switch.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["SecretRepr"]


class SecretRepr:
    """Put first among a Struct's bases and name the fields to hide in ``secret_fields``::

    class Token(SecretRepr, msgspec.Struct, frozen=True):
        secret_fields: ClassVar[frozenset[str]] = frozenset({"value"})
        value: str
    """

    __slots__ = ()
    __struct_fields__: ClassVar[tuple[str, ...]]
    secret_fields: ClassVar[frozenset[str]] = frozenset()

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        # rich's pretty printer asks this before __repr__; msgspec's own lists every field.
        hidden = self.secret_fields
        return [
            (name, getattr(self, name)) for name in self.__struct_fields__ if name not in hidden
        ]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"{type(self).__name__}({shown})"

"""A Struct base whose ``repr`` leaves out the fields it names: values that may be secrets (tokens
in environment tables and headers) never reach a log through a printed config."""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

__all__ = ["QuietRepr"]


class QuietRepr(msgspec.Struct, frozen=True):
    """Subclasses list the fields to leave out of ``repr`` in ``_not_in_repr``."""

    _not_in_repr: ClassVar[frozenset[str]] = frozenset()

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [
            (name, getattr(self, name))
            for name in self.__struct_fields__
            if name not in self._not_in_repr
        ]

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.__rich_repr__())
        return f"{type(self).__name__}({shown})"

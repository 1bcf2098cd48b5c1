"""Incremental byte-level Server-Sent Events decoder and encoder (WHATWG event-stream rules).

Pure data transformation: bytes in, :class:`ServerSentEvent` out; no I/O.
"""

from __future__ import annotations

import msgspec

__all__ = ["SSEDecoder", "ServerSentEvent", "encode_event"]

_BOM = "\ufeff"
_CR = 0x0D


class ServerSentEvent(msgspec.Struct, frozen=True):
    """One dispatched event.

    ``event`` is ``None`` when the event had no ``event:`` field (the WHATWG default type
    "message" is left to the caller). ``id`` is the stream's last event id at dispatch time (it
    persists across events). ``retry`` is the reconnection time given inside this event's block.
    """

    event: str | None
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Incremental decoder: :meth:`feed` chunks of any size, then :meth:`flush` at end of stream.

    Lines may end in CRLF, LF or CR, even with the CR and LF in different chunks. Only the bytes of
    each new chunk are searched for line endings and an unfinished line is kept in one growing
    buffer, so a multi-MiB event fed in small chunks costs linear time. Complete lines are decoded
    as UTF-8 with ``errors="replace"``, so a character split across chunks decodes correctly.
    """

    __slots__ = (
        "_at_start",
        "_data",
        "_event",
        "_last_event_id",
        "_partial",
        "_retry",
        "_skip_lf",
        "reconnection_time",
    )

    def __init__(self) -> None:
        self._partial = bytearray()
        # The previous chunk ended in CR: an LF opening the next chunk finishes that same CRLF.
        self._skip_lf = False
        # No line decoded yet in this stream, so a leading BOM may still be pending.
        self._at_start = True
        self._data: list[str] = []
        self._event: str | None = None
        self._retry: int | None = None
        self._last_event_id: str | None = None
        #: Last valid ``retry:`` value seen on the stream, in milliseconds (stream-level setting).
        self.reconnection_time: int | None = None

    @property
    def last_event_id(self) -> str | None:
        """The last event id set by an ``id:`` field (what a reconnect sends as Last-Event-ID)."""
        return self._last_event_id

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume one chunk and return the events completed by it (possibly none)."""
        start = 0
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 0x0A:
                start = 1
        # Only the last line ending matters for splitting off the unfinished tail.
        end = max(chunk.rfind(b"\n", start), chunk.rfind(b"\r", start)) + 1
        if end == 0:
            self._partial += chunk[start:] if start else chunk
            return []
        if chunk[end - 1] == _CR and end == len(chunk):
            self._skip_lf = True
        partial = self._partial
        if partial:
            partial += chunk[start:end]
            block = bytes(partial)
            partial.clear()
        else:
            block = chunk[start:end] if start or end != len(chunk) else chunk
        if end != len(chunk):
            partial += chunk[end:]
        return self._process(block.decode("utf-8", "replace"))

    def flush(self) -> list[ServerSentEvent]:
        """End of stream: process a final unterminated line, then drop any undispatched event.

        Per the WHATWG rules an event is dispatched only by a blank line, so a trailing event with
        no blank line after it is discarded (its ``id:`` still updates :attr:`last_event_id`). The
        decoder is then ready for a new stream; the last event id is kept, as for a reconnect.
        """
        events: list[ServerSentEvent] = []
        if self._partial:
            text = self._partial.decode("utf-8", "replace")
            self._partial.clear()
            # Terminating the line lets the shared path handle it; a non-blank line never
            # dispatches, so this only updates field state.
            events = self._process(text + "\n")
        self._skip_lf = False
        self._at_start = True
        self._data = []
        self._event = None
        self._retry = None
        return events

    def _process(self, text: str) -> list[ServerSentEvent]:
        """Interpret ``text``, a run of complete lines each ending in CR, LF or CRLF."""
        if self._at_start:
            self._at_start = False
            if text.startswith(_BOM):
                text = text[1:]
        if "\r" in text:
            # str.splitlines would also split on U+2028, VT, FF, ...; SSE only knows CR and LF.
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        lines.pop()  # text ends with a line ending, so the last piece is always empty

        events: list[ServerSentEvent] = []
        data = self._data
        event = self._event
        retry = self._retry
        last_id = self._last_event_id
        for line in lines:
            if not line:
                if data:
                    events.append(
                        ServerSentEvent(
                            event, data[0] if len(data) == 1 else "\n".join(data), last_id, retry
                        )
                    )
                    data = []
                event = None
                retry = None
                continue
            # Hot path: almost every line of a Responses stream is "data: {json}".
            if line.startswith("data:"):
                data.append(line[6:] if line.startswith(" ", 5) else line[5:])
                continue
            if line.startswith("event:"):
                event = line[7:] if line.startswith(" ", 6) else line[6:]
                continue
            name, colon, value = line.partition(":")
            if not name:
                continue  # comment line
            if colon and value.startswith(" "):
                value = value[1:]
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
            elif name == "id":
                if "\0" not in value:
                    last_id = value
            elif name == "retry" and value.isascii() and value.isdigit():
                retry = int(value)
                self.reconnection_time = retry
            # Unknown field names are ignored, as the spec requires.
        self._data = data
        self._event = event
        self._retry = retry
        self._last_event_id = last_id
        return events


def encode_event(data: str, event: str | None = None) -> bytes:
    """Frame one event: an optional ``event:`` line, one ``data:`` line per line of ``data``.

    SSE cannot carry a CR or LF inside a line, so CRLF, CR and LF in ``data`` all become line
    breaks (the decoder gives them back as LF). Raises ValueError for a line break in ``event``.
    """
    if event is not None and ("\n" in event or "\r" in event):
        raise ValueError(f"SSE event name must not contain a line break: {event!r}")
    if "\r" in data:
        data = data.replace("\r\n", "\n").replace("\r", "\n")
    head = "" if event is None else f"event: {event}\n"
    return f"{head}data: {data.replace(chr(10), chr(10) + 'data: ')}\n\n".encode()

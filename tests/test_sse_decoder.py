"""Tests for the byte-level SSE decoder and encoder in codex_engine.protocol.sse."""

from __future__ import annotations

import itertools
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codex_engine.protocol.sse import ServerSentEvent, SSEDecoder, encode_event


def decode_all(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def decode_bytewise(stream: bytes) -> list[ServerSentEvent]:
    return decode_all(*(stream[i : i + 1] for i in range(len(stream))))


# --- line endings -----------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_each_line_ending_style(eol: bytes) -> None:
    stream = eol.join([b"event: a", b"data: 1", b"data: 2", b"", b"data: 3", b"", b""])
    expected = [ServerSentEvent("a", "1\n2"), ServerSentEvent(None, "3")]
    assert decode_all(stream) == expected
    assert decode_bytewise(stream) == expected


def test_mixed_line_endings_in_one_stream() -> None:
    stream = b"data: a\rdata: b\ndata: c\r\n\r\ndata: d\n\r"
    assert decode_all(stream) == [ServerSentEvent(None, "a\nb\nc"), ServerSentEvent(None, "d")]


def test_crlf_split_across_chunks_is_one_line_ending() -> None:
    # If the LF were a second line ending, it would be a blank line dispatching "x" early.
    events = decode_all(b"data: x\r", b"\ndata: y\r", b"\n\r", b"\n")
    assert events == [ServerSentEvent(None, "x\ny")]


def test_cr_at_chunk_end_followed_by_empty_chunk_then_lf() -> None:
    assert decode_all(b"data: x\r", b"", b"\ndata: y\n\n") == [ServerSentEvent(None, "x\ny")]


def test_cr_cr_is_two_line_endings() -> None:
    assert decode_all(b"data: x\r", b"\r") == [ServerSentEvent(None, "x")]


def test_lf_after_lf_at_chunk_boundary_is_a_blank_line() -> None:
    assert decode_all(b"data: x\n", b"\n") == [ServerSentEvent(None, "x")]


def test_unicode_line_separators_do_not_split_lines() -> None:
    data = "a\u2028b\x85c\x0bd\x0ce\x1cf"
    assert decode_all(f"data: {data}\n\n".encode()) == [ServerSentEvent(None, data)]


# --- fields -----------------------------------------------------------------------------------


def test_comments_are_ignored() -> None:
    stream = b": keep-alive\n:\ndata: x\n: inside\n\n:only comment\n\n"
    assert decode_all(stream) == [ServerSentEvent(None, "x")]


def test_multi_line_data_joined_with_lf() -> None:
    assert decode_all(b"data: a\ndata:\ndata: c\n\n") == [ServerSentEvent(None, "a\n\nc")]


def test_leading_bom_is_skipped_once() -> None:
    bom = b"\xef\xbb\xbf"
    assert decode_all(bom + b"data: x\n\n") == [ServerSentEvent(None, "x")]
    # BOM split over chunks.
    assert decode_all(bom[:1], bom[1:2], bom[2:] + b"data: x\n\n") == [ServerSentEvent(None, "x")]
    # Only at the start of the stream: later the BOM is part of a field name, which is unknown.
    assert decode_all(bom + b"data: x\n\n" + bom + b"data: y\n\n") == [ServerSentEvent(None, "x")]
    # A second BOM at the start is not skipped.
    assert decode_all(bom + bom + b"data: x\n\n") == []


def test_field_without_colon_has_empty_value() -> None:
    assert decode_all(b"data\n\n") == [ServerSentEvent(None, "")]
    assert decode_all(b"event\ndata: x\n\n") == [ServerSentEvent("", "x")]
    assert decode_all(b"id\ndata: x\n\n") == [ServerSentEvent(None, "x", id="")]


def test_only_one_space_after_colon_is_removed() -> None:
    stream = b"event:  two\ndata:  a\ndata:b\ndata: \tc \n\n"
    assert decode_all(stream) == [ServerSentEvent(" two", " a\nb\n\tc ")]


def test_value_may_contain_colons() -> None:
    assert decode_all(b'data: {"a": 1}\nevent: x:y\n\n') == [ServerSentEvent("x:y", '{"a": 1}')]


def test_field_names_are_case_sensitive_and_unknown_fields_ignored() -> None:
    assert decode_all(b"Data: x\nfoo: bar\ndata : y\ndata: z\n\n") == [ServerSentEvent(None, "z")]


def test_event_is_none_without_event_field_and_resets_after_dispatch() -> None:
    stream = b"event: a\ndata: 1\n\ndata: 2\n\n"
    assert decode_all(stream) == [ServerSentEvent("a", "1"), ServerSentEvent(None, "2")]


def test_id_persists_across_events_and_id_with_nul_is_ignored() -> None:
    stream = b"id: 1\ndata: a\n\ndata: b\n\nid: 2\x00x\ndata: c\n\nid:\ndata: d\n\n"
    assert decode_all(stream) == [
        ServerSentEvent(None, "a", id="1"),
        ServerSentEvent(None, "b", id="1"),
        ServerSentEvent(None, "c", id="1"),
        ServerSentEvent(None, "d", id=""),
    ]


def test_retry_only_ascii_digits() -> None:
    decoder = SSEDecoder()
    stream = b"retry: 1500\ndata: a\n\nretry: 15x\ndata: b\n\nretry: \xd9\xa3\ndata: c\n\n"
    events = decoder.feed(stream + b"retry: -1\nretry:\nretry: 1.5\ndata: d\n\n")
    assert [e.retry for e in events] == [1500, None, None, None]
    assert decoder.reconnection_time == 1500


def test_blank_line_without_data_dispatches_nothing_and_resets_event_type() -> None:
    stream = b"event: lost\n\ndata: x\n\n\n\n"
    assert decode_all(stream) == [ServerSentEvent(None, "x")]


def test_blank_line_without_data_keeps_id() -> None:
    assert decode_all(b"id: 7\n\ndata: x\n\n") == [ServerSentEvent(None, "x", id="7")]


def test_unterminated_trailing_event_is_dropped() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: b\n") == [ServerSentEvent(None, "a")]
    assert decoder.flush() == []
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\nid: 9\ndata: b") == [ServerSentEvent(None, "a")]
    # The final unterminated line is still processed, so the id updates.
    assert decoder.flush() == []
    assert decoder.last_event_id == "9"


def test_flush_resets_for_a_new_stream() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 3\nevent: x\ndata: half") == []
    assert decoder.flush() == []
    assert decoder.feed(b"\xef\xbb\xbfdata: new\n\n") == [ServerSentEvent(None, "new", id="3")]


# --- chunking and size ------------------------------------------------------------------------


def test_multibyte_utf8_split_across_chunks() -> None:
    payload = "héllo 日本 🎉"
    stream = f"data: {payload}\n\n".encode()
    for cut in range(len(stream)):
        assert decode_all(stream[:cut], stream[cut:]) == [ServerSentEvent(None, payload)]
    assert decode_bytewise(stream) == [ServerSentEvent(None, payload)]


def test_invalid_utf8_is_replaced() -> None:
    assert decode_all(b"data: a\xffb\xe6\n\n") == [ServerSentEvent(None, "a\ufffdb\ufffd")]


def test_five_mib_event_in_1_kib_chunks_arrives_intact() -> None:
    line = ("0123456789abcdef" * 65536) + "é"  # 1 MiB + a multi-byte char
    data = "\n".join([line] * 5)
    stream = b"event: big\n" + encode_event(data) + b"data: next\n\n"
    chunks = [stream[i : i + 1024] for i in range(0, len(stream), 1024)]
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    t0 = time.perf_counter()
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    elapsed = time.perf_counter() - t0
    assert len(events) == 2
    assert events[0].event == "big"
    assert events[0].data == data
    assert events[1] == ServerSentEvent(None, "next")
    # Linear work is a few ms; a quadratic rescan of the buffer would take many seconds.
    assert elapsed < 2.0


# --- encoder ----------------------------------------------------------------------------------


def test_encode_event_framing() -> None:
    assert encode_event("x") == b"data: x\n\n"
    assert encode_event("a\nb", "e") == b"event: e\ndata: a\ndata: b\n\n"
    assert encode_event("") == b"data: \n\n"
    assert encode_event("a\r\nb\rc") == b"data: a\ndata: b\ndata: c\n\n"
    with pytest.raises(ValueError):
        encode_event("x", "bad\nname")


# --- properties -------------------------------------------------------------------------------

_line_text = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]))
_events = st.lists(
    st.tuples(
        st.one_of(st.none(), _line_text),
        st.lists(_line_text, min_size=1, max_size=4).map("\n".join),
    ),
    max_size=8,
)
_eol = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def _streams(draw: st.DrawFn) -> tuple[bytes, list[ServerSentEvent]]:
    events = draw(_events)
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    out = bytearray(bom)
    prev_eol = b""
    for event, data in events:
        # Each line of the encoding gets its own, randomly chosen, line ending.
        for line in encode_event(data, event).split(b"\n")[:-1]:
            eol = draw(_eol)
            if not line and prev_eol == b"\r" and eol == b"\n":
                eol = b"\r\n"  # CR then a lone LF would be one CRLF, not a blank line
            out += line + eol
            prev_eol = eol
    return bytes(out), [ServerSentEvent(event, data) for event, data in events]


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300, deadline=None)
@given(_streams(), st.lists(st.integers(min_value=0, max_value=10_000), max_size=40))
def test_any_chunking_yields_the_same_events(
    case: tuple[bytes, list[ServerSentEvent]], cuts: list[int]
) -> None:
    stream, expected = case
    whole = decode_all(stream)
    assert whole == expected
    assert decode_all(*_split(stream, cuts)) == whole


@settings(max_examples=50, deadline=None)
@given(_streams())
def test_one_byte_chunks_yield_the_same_events(case: tuple[bytes, list[ServerSentEvent]]) -> None:
    stream, expected = case
    assert decode_bytewise(stream) == expected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=512), st.lists(st.integers(min_value=0, max_value=512), max_size=20))
def test_never_raises_on_arbitrary_bytes(data: bytes, cuts: list[int]) -> None:
    whole = decode_all(data)
    assert decode_all(*_split(data, cuts)) == whole
    for event in whole:
        assert isinstance(event.data, str)


def _reference_decode(stream: bytes) -> list[ServerSentEvent]:
    """Straight transcription of the WHATWG algorithm, one line at a time, as an oracle."""
    text = stream.decode("utf-8", "replace")
    text = text.removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    lines.pop()  # the unterminated remainder never dispatches
    events: list[ServerSentEvent] = []
    data_buf = ""
    event_type: str | None = None
    last_id: str | None = None
    retry: int | None = None
    for line in lines:
        if line == "":
            if data_buf:
                events.append(ServerSentEvent(event_type, data_buf[:-1], last_id, retry))
            data_buf, event_type, retry = "", None, None
            continue
        if line.startswith(":"):
            continue
        if ":" in line:
            field, value = line.split(":", 1)
            if value.startswith(" "):
                value = value[1:]
        else:
            field, value = line, ""
        if field == "event":
            event_type = value
        elif field == "data":
            data_buf += value + "\n"
        elif field == "id" and "\0" not in value:
            last_id = value
        elif field == "retry" and value and all(c in "0123456789" for c in value):
            retry = int(value)
    return events


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                b"data: x",
                b"data:",
                b"data",
                b"data:  y",
                b"event: e",
                b"event",
                b":c",
                b"id: 1",
                b"id: \x00",
                b"retry: 5",
                b"retry: 5a",
                b"\xef\xbb\xbfdata: z",
                b"",
            ]
        )
        | st.binary(max_size=8),
        max_size=30,
    ),
    st.lists(_eol, min_size=1),
    st.lists(st.integers(min_value=0, max_value=400), max_size=20),
)
def test_matches_reference_algorithm(
    lines: list[bytes], eols: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(line + eols[i % len(eols)] for i, line in enumerate(lines))
    assert decode_all(*_split(stream, cuts)) == _reference_decode(stream)

"""What the model reads back from ``exec_command`` and ``write_stdin``: the reference's header
lines (chunk id, wall time, exit code or session id, original token count) and the output cut to
a token budget, keeping its start and its end."""

from __future__ import annotations

import secrets

__all__ = [
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "approx_tokens",
    "format_response",
    "truncate_to_tokens",
]

DEFAULT_MAX_OUTPUT_TOKENS = 10_000
#: A token is about four bytes of text, as the reference counts them.
_BYTES_PER_TOKEN = 4


def approx_tokens(text: str) -> int:
    return -(-len(text.encode("utf-8")) // _BYTES_PER_TOKEN)


def truncate_to_tokens(text: str, max_tokens: int) -> str:
    """``text`` if it fits ``max_tokens``; else its first and last halves of the budget (on
    character boundaries) around ``…N tokens truncated…``."""
    data = text.encode("utf-8")
    budget = max(max_tokens, 0) * _BYTES_PER_TOKEN
    if len(data) <= budget:
        return text
    head_end = budget // 2
    while head_end > 0 and (data[head_end] & 0xC0) == 0x80:
        head_end -= 1  # do not split a character
    tail_start = len(data) - (budget - budget // 2)
    while tail_start < len(data) and (data[tail_start] & 0xC0) == 0x80:
        tail_start += 1
    removed = -(-(len(data) - budget) // _BYTES_PER_TOKEN)
    head = data[:head_end].decode("utf-8", errors="replace")
    tail = data[tail_start:].decode("utf-8", errors="replace")
    return f"{head}…{removed} tokens truncated…{tail}"


def format_response(
    *,
    wall_time_s: float,
    output: str,
    max_output_tokens: int,
    exit_code: int | None,
    session_id: int | None,
) -> str:
    """The ``function_call_output`` text."""
    lines = [f"Chunk ID: {secrets.token_hex(3)}", f"Wall time: {wall_time_s:.4f} seconds"]
    if exit_code is not None:
        lines.append(f"Process exited with code {exit_code}")
    if session_id is not None:
        lines.append(f"Process running with session ID {session_id}")
    lines.append(f"Original token count: {approx_tokens(output)}")
    lines.append("Output:")
    lines.append(truncate_to_tokens(output, max_output_tokens))
    return "\n".join(lines)

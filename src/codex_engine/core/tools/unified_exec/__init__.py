"""Unified exec: commands that keep running between tool calls (``exec_command`` starts one,
``write_stdin`` writes to it and reads what it printed since), in a PTY or with pipes."""

from codex_engine.core.tools.unified_exec.process import LiveProcess, ProcessStartError
from codex_engine.core.tools.unified_exec.store import MAX_PROCESSES, ProcessStore
from codex_engine.core.tools.unified_exec.tool import UnifiedExecTool, unified_exec_env

__all__ = [
    "MAX_PROCESSES",
    "LiveProcess",
    "ProcessStartError",
    "ProcessStore",
    "UnifiedExecTool",
    "unified_exec_env",
]

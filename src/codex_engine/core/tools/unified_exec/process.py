"""One live process of unified exec: started in a PTY or with pipes, its output accumulated
until read, its stdin written, its terminal resized, its whole process group killed.

Reads are non-blocking (the PTY master is watched by the event loop; pipes by a reader task), so
many processes share one loop. Output kept in memory is capped: what is not read in time loses
its middle, never its start or its most recent bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from codex_engine.errors import ProcessStartError

__all__ = [
    "OUTPUT_MAX_BYTES",
    "HeadTailBuffer",
    "LiveProcess",
    "OutputListener",
    "ProcessStartError",
    "Stream",
]

Stream = Literal["stdout", "stderr"]
#: Called with each chunk of output as it arrives, and the stream it came on (a terminal's
#: output, and piped output merged with stderr, come on ``stdout``).
OutputListener = Callable[[bytes, Stream], None]

#: Output held for one process between reads (the reference's cap, 1 MiB).
OUTPUT_MAX_BYTES = 1024 * 1024
#: After the process exits, how long to wait for output still in flight (a grandchild may hold
#: the terminal open for good, so this is bounded).
_DRAIN_AFTER_EXIT_S = 0.1


class HeadTailBuffer:
    """Bytes kept up to ``limit``: past it, the first half and the latest half are kept and
    the count of bytes dropped between them is remembered."""

    def __init__(self, limit: int = OUTPUT_MAX_BYTES) -> None:
        self._limit = limit
        self._head = bytearray()
        self._tail = bytearray()
        self.dropped = 0

    def push(self, chunk: bytes) -> None:
        room = self._limit // 2 - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        self._tail += chunk
        excess = len(self._tail) - (self._limit - self._limit // 2)
        if excess > 0:
            del self._tail[:excess]
            self.dropped += excess

    def take(self) -> bytes:
        """Everything kept, emptied (the dropped count restarts too)."""
        data = bytes(self._head + self._tail)
        self._head.clear()
        self._tail.clear()
        self.dropped = 0
        return data

    def __len__(self) -> int:
        return len(self._head) + len(self._tail)


class LiveProcess:
    """A started command. Create with :meth:`start`; :meth:`terminate` (or :meth:`close`) kills
    its whole process group and waits for it, so nothing is left behind."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        *,
        master_fd: int | None,
        tty: bool,
    ) -> None:
        self._process = process
        self._master_fd = master_fd
        self.tty = tty
        self.started_at = time.monotonic()
        #: Unread output (since the last :meth:`take_output`).
        self._pending = HeadTailBuffer()
        #: All output, for the command's record (capped the same way).
        self.transcript = HeadTailBuffer()
        self._listeners: list[OutputListener] = []
        self._changed = asyncio.Event()
        self._eof = asyncio.Event()
        self._readers: list[asyncio.Task[None]] = []
        if master_fd is not None:
            os.set_blocking(master_fd, False)
            asyncio.get_running_loop().add_reader(master_fd, self._on_master_readable)
        else:
            assert process.stdout is not None
            self._readers.append(asyncio.ensure_future(self._read_pipe(process.stdout, "stdout")))
            if process.stderr is not None:
                self._readers.append(
                    asyncio.ensure_future(self._read_pipe(process.stderr, "stderr"))
                )
        self._open_streams = max(len(self._readers), 1)
        self._waiter = asyncio.ensure_future(self._wait())

    @classmethod
    async def start(
        cls,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None,
        tty: bool,
        size: tuple[int, int] = (24, 80),
        stdin: bool = True,
        merge_stderr: bool = True,
    ) -> LiveProcess:
        """Start ``argv`` in its own session (so its group can be killed as one);
        :class:`ProcessStartError` when it cannot be started.

        Without a terminal, ``stdin`` False gives it no input (``/dev/null``) and
        ``merge_stderr`` False keeps stderr apart (listeners see which stream a chunk came on).
        """
        if not argv:
            raise ProcessStartError("the command is empty")
        if not await asyncio.to_thread(cwd.is_dir):
            raise ProcessStartError(f"the working directory {cwd} does not exist")
        master: int | None = None
        slave: int | None = None
        try:
            if tty:
                master, slave = os.openpty()
                _set_size(master, *size)
                process = await asyncio.create_subprocess_exec(
                    *argv,
                    cwd=str(cwd),
                    env=dict(env) if env is not None else None,
                    stdin=slave,
                    stdout=slave,
                    stderr=slave,
                    start_new_session=True,
                )
            else:
                process = await asyncio.create_subprocess_exec(
                    *argv,
                    cwd=str(cwd),
                    env=dict(env) if env is not None else None,
                    stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.STDOUT if merge_stderr else asyncio.subprocess.PIPE,
                    start_new_session=True,
                )
        except OSError as exc:
            if master is not None:
                os.close(master)
            raise ProcessStartError(f"failed to start {argv[0]!r}: {exc.strerror or exc}") from None
        finally:
            if slave is not None:
                # The child holds its own copy; ours would keep the terminal open after it exits.
                os.close(slave)
        return cls(process, master_fd=master, tty=tty)

    @property
    def pid(self) -> int:
        return self._process.pid

    @property
    def exit_code(self) -> int | None:
        """``None`` while it runs (or its output is still being drained)."""
        return self._process.returncode if self._waiter.done() else None

    @property
    def has_exited(self) -> bool:
        return self._waiter.done()

    def subscribe(self, listener: OutputListener) -> Callable[[], None]:
        """Call ``listener`` with each chunk as it arrives; returns the unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def take_output(self) -> bytes:
        """The output since the last call."""
        return self._pending.take()

    async def wait_output_or_exit(self, deadline: float) -> None:
        """Until new output arrives, the process exits, or ``deadline`` (loop time) passes."""
        if len(self._pending) or self.has_exited:
            return
        self._changed.clear()
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(remaining):
                await self._changed.wait()

    async def write(self, data: bytes) -> None:
        """Write to its stdin; ``BrokenPipeError`` when it no longer reads."""
        if self._master_fd is not None:
            view = memoryview(data)
            while view:
                try:
                    written = os.write(self._master_fd, view)
                except BlockingIOError:
                    await asyncio.sleep(0.01)  # the terminal's input queue is full; retry soon
                    continue
                except OSError as exc:
                    raise BrokenPipeError(str(exc)) from None
                view = view[written:]
            return
        stdin = self._process.stdin
        if stdin is None or stdin.is_closing():
            raise BrokenPipeError("stdin is closed")
        try:
            stdin.write(data)
            await stdin.drain()
        except (ConnectionResetError, BrokenPipeError) as exc:
            raise BrokenPipeError(str(exc)) from None

    def close_stdin(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()

    def resize(self, rows: int, cols: int) -> None:
        """Set the terminal size (and the program gets SIGWINCH); ``ValueError`` without a PTY."""
        if self._master_fd is None:
            raise ValueError("the process has no terminal (it was started with tty off)")
        _set_size(self._master_fd, rows, cols)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGWINCH)

    async def wait(self) -> int:
        """Its exit code, once it has exited and its output has been drained."""
        await asyncio.shield(self._waiter)
        return self._process.returncode if self._process.returncode is not None else -1

    async def terminate(self) -> None:
        """Kill its whole process group and wait for it (idempotent)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await self.wait()
        self._close_master()

    close = terminate

    def _deliver(self, chunk: bytes, stream: Stream = "stdout") -> None:
        self._pending.push(chunk)
        self.transcript.push(chunk)
        for listener in list(self._listeners):
            listener(chunk, stream)
        self._changed.set()

    def _on_master_readable(self) -> None:
        assert self._master_fd is not None
        try:
            chunk = os.read(self._master_fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""  # EIO: every holder of the terminal's other end has closed it
        if chunk:
            self._deliver(chunk)
            return
        asyncio.get_running_loop().remove_reader(self._master_fd)
        self._eof.set()

    async def _read_pipe(self, reader: asyncio.StreamReader, stream: Stream) -> None:
        try:
            while chunk := await reader.read(65536):
                self._deliver(chunk, stream)
        finally:
            self._open_streams -= 1
            if self._open_streams <= 0:
                self._eof.set()

    async def _wait(self) -> None:
        await self._process.wait()
        # Output written just before exiting may still be in the terminal or the pipe.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_DRAIN_AFTER_EXIT_S):
                await self._eof.wait()
        if not self._eof.is_set() and self._master_fd is not None:
            self._on_master_readable()  # one last non-blocking read
        self._changed.set()

    def _close_master(self) -> None:
        for reader in self._readers:
            reader.cancel()
        fd, self._master_fd = self._master_fd, None
        if fd is None:
            return
        with contextlib.suppress(ValueError, RuntimeError):
            asyncio.get_running_loop().remove_reader(fd)
        with contextlib.suppress(OSError):
            os.close(fd)


def _set_size(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

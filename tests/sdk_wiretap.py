"""Stands in for the codex-engine binary the official SDK launches, logging every JSON-RPC line.

``python sdk_wiretap.py LOG ARGS...`` runs ``python -m codex_engine ARGS...``; when that is the
app-server it relays stdin and stdout line by line and appends each line to LOG as
``{"from": "client"|"server", "message": ...}``, so a test can validate every message.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from typing import IO, Any


def _relay(
    source: IO[bytes], sink: IO[bytes], log: IO[str], who: str, lock: threading.Lock
) -> None:
    for line in source:
        with lock:
            try:
                message: Any = json.loads(line)
            except ValueError:
                message = {"unparsed": line.decode("utf-8", "replace")}
            log.write(json.dumps({"from": who, "message": message}) + "\n")
            log.flush()
        sink.write(line)
        sink.flush()
    sink.close()


def main() -> int:
    log_path, args = sys.argv[1], sys.argv[2:]
    command = [sys.executable, "-m", "codex_engine", *args]
    if "--listen" not in args:
        # Not the server (e.g. `app-server generate-json-schema`): nothing to relay.
        os.execv(sys.executable, command)
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    # The SDK stops its server with SIGTERM: pass it on and finish relaying what is left.
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    lock = threading.Lock()
    with open(log_path, "a", encoding="utf-8") as log:
        inbound = threading.Thread(
            target=_relay, args=(sys.stdin.buffer, child.stdin, log, "client", lock), daemon=True
        )
        inbound.start()
        _relay(child.stdout, sys.stdout.buffer, log, "server", lock)
        return child.wait()


if __name__ == "__main__":
    sys.exit(main())

"""A stdio MCP server for the tests.

Arguments: NAME, then optional `--delay SECONDS` (sleep before serving: a slow or hung start),
`--pid-file PATH` (write this process's pid first), `--fail MESSAGE` (print it to stderr, exit 1),
`--growing` (a `grow` tool adds a tool and sends `notifications/tools/list_changed`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--pid-file")
    parser.add_argument("--fail")
    parser.add_argument("--env-file")
    parser.add_argument("--growing", action="store_true")
    args = parser.parse_args()
    if args.pid_file:
        Path(args.pid_file).write_text(str(os.getpid()))
    if args.env_file:
        Path(args.env_file).write_text("\n".join(f"{k}={v}" for k, v in sorted(os.environ.items())))
    if args.fail:
        print(args.fail, file=sys.stderr, flush=True)
        sys.exit(1)
    if args.delay:
        time.sleep(args.delay)
    from tests.mcp_servers.tools import build

    build(args.name, growing=args.growing).run()


if __name__ == "__main__":
    main()

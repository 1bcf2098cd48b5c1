"""A minimal stdio MCP server for bench/mcp_startup.py: answers `initialize` after DELAY seconds.

Hand-written JSON-RPC (no SDK import), so the benchmark measures the engine's waiting, not the
cost of starting Python with the SDK: initialize, tools/list (one `ping` tool), nothing else.
"""

import json
import sys
import time

delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.2
for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue
    method = message.get("method")
    if method == "initialize":
        time.sleep(delay)
        result = {
            "protocolVersion": message["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "light", "version": "1"},
        }
    elif method == "tools/list":
        result = {"tools": [{"name": "ping", "inputSchema": {"type": "object"}}]}
    else:
        result = {}
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result}) + "\n")
    sys.stdout.flush()

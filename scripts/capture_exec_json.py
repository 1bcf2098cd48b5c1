"""Record what the reference `codex exec --json` prints for three scripted turns (a text answer,
a tool call, a failed request) against the bundled emulator, next to what codex-engine prints,
as tests/captures/exec_json.json (ids and counts normalised away).

    python scripts/capture_exec_json.py /path/to/reference/codex [.venv/bin/codex-engine]
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from codex_engine.emulator import ResponsesEmulator
from codex_engine.emulator.script import Reply

OUT = Path(__file__).resolve().parent.parent / "tests" / "captures" / "exec_json.json"


_KEPT = {"type", "status"}


def shape(value: Any) -> Any:
    """Keys and value types, not values (but event/item types and statuses): what a consumer's
    parser depends on."""
    if isinstance(value, dict):
        return {k: v if k in _KEPT else shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value[:1]]
    if isinstance(value, bool) or value is None:
        return value
    return type(value).__name__


def _prepare(tmp: Path) -> tuple[Path, Path]:
    home, repo = tmp / "home", tmp / "repo"
    home.mkdir()
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    return home, repo


async def run(binary: str, scenario: str, tool: str) -> dict[str, Any]:
    async with ResponsesEmulator(strict=False) as emu:
        if scenario == "tool":
            args = {"cmd": "echo hi"} if tool == "exec_command" else {"command": ["echo", "hi"]}
            emu.enqueue(Reply.function_call(tool, args))
        elif scenario == "failed":
            emu.enqueue(Reply.status(400))
        with tempfile.TemporaryDirectory() as tmp:
            home, repo = _prepare(Path(tmp))
            last = repo / "last.txt"
            provider = (
                f'model_providers.emu={{name="emu", base_url="{emu.base_url}", '
                'env_key="EMU_KEY", wire_api="responses"}'
            )
            argv = [binary, "exec", "--json", "-s", "danger-full-access", "-o", str(last),
                    "-c", "model_provider=emu", "-c", provider, "hello"]  # fmt: skip
            env = dict(os.environ, CODEX_HOME=str(home), EMU_KEY="sk-test")
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=repo, env=env, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, _err = await asyncio.wait_for(proc.communicate(), 120)
            lines = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
            return {
                "exit_code": proc.returncode,
                "last_message_file_written": await asyncio.to_thread(last.exists),
                "events": [shape(line) for line in lines],
            }


async def main() -> None:
    reference = sys.argv[1]
    ours = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else ".venv/bin/codex-engine")
    capture: dict[str, Any] = {"reference": "codex-cli 0.163.0", "scenarios": {}}
    for scenario in ("text", "tool", "failed"):
        capture["scenarios"][scenario] = {
            "reference": await run(reference, scenario, "exec_command"),
            "codex_engine": await run(ours, scenario, "exec_command"),
        }
    OUT.write_text(json.dumps(capture, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    asyncio.run(main())

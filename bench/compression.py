"""zstd compression of realistic Responses request bodies (SPEC §7): ratio and time per level.

Reproduce: ``.venv/bin/python bench/compression.py [--repeats R]`` from the repo root.
Bodies come from ``build_request_body`` over a long made-up coding session whose tool outputs are
this repository's own source files, test logs and diffs, with encrypted reasoning replayed as
the ChatGPT backend requires (random base64, i.e. incompressible).
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import zstandard

from codex_engine.core.tools.shell import ShellResult, format_for_model, shell_tool_spec
from codex_engine.protocol.compression import compress_body
from codex_engine.protocol.items import (
    ContentPart,
    FunctionCall,
    FunctionCallOutput,
    Message,
    Reasoning,
    ResponseItem,
    user_message,
)
from codex_engine.protocol.request import Prompt, ReasoningParams, RequestContext
from codex_engine.protocol.request import build_request_body as build

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "src" / "codex_engine").rglob("*.py"))
TARGETS = {"40KB": 40_000, "500KB": 500_000}
LEVELS = (1, 3)


def _slice(rng: random.Random, limit: int) -> str:
    path = rng.choice(SOURCES)
    lines = path.read_text().splitlines()
    start = rng.randrange(max(1, len(lines) - 40))
    text = "\n".join(lines[start : start + rng.randint(15, 80)])
    return text[:limit]


def _pytest_log(rng: random.Random) -> str:
    names = [p.stem for p in sorted((ROOT / "tests").glob("test_*.py"))]
    lines = [f"tests/{rng.choice(names)}.py " + "." * rng.randint(3, 40) for _ in range(12)]
    passed = rng.randint(40, 400)
    return "\n".join(lines) + f"\n{passed} passed in {rng.uniform(0.5, 9):.2f}s"


def _tool_output(rng: random.Random, command: list[str]) -> str:
    if command[0] == "pytest":
        text = _pytest_log(rng)
    elif command[0] == "git":
        text = "\n".join(f"+{line}" for line in _slice(rng, 3000).splitlines())
    else:
        text = _slice(rng, 6000)
    result = ShellResult(exit_code=0, output=text, duration_s=rng.uniform(0.01, 4))
    return format_for_model(result, 10_000)


def _commands(rng: random.Random) -> list[str]:
    path = rng.choice(SOURCES).relative_to(ROOT)
    return rng.choice(
        [
            ["sed", "-n", "1,120p", str(path)],
            ["cat", str(path)],
            ["rg", "-n", "def ", str(path)],
            ["pytest", "-q", "tests"],
            ["git", "diff", "--", str(path)],
        ]
    )


def conversation_body(target_bytes: int, *, reasoning: bool = True, seed: int = 7) -> bytes:
    """A wire body of about ``target_bytes``, grown one agent step at a time."""
    rng = random.Random(seed)
    items: list[ResponseItem] = [user_message("Fix the failing tests and explain what changed.")]
    ctx = RequestContext(
        model="gpt-5.1-codex",
        thread_id="019a0000-0000-7000-8000-000000000000",
        turn_id="turn-1",
        reasoning=ReasoningParams(effort="medium", summary="auto"),
    )
    instructions = (ROOT / "src/codex_engine/config/prompts/base_instructions.md").read_text()
    step = 0
    while True:
        prompt = Prompt(input=items, base_instructions=instructions, tools=[shell_tool_spec()])
        body = json.dumps(build(prompt, ctx), separators=(",", ":")).encode()
        if len(body) >= target_bytes:
            return body
        step += 1
        if reasoning:
            blob = base64.b64encode(rng.randbytes(rng.randint(600, 1600))).decode()
            summary = [{"type": "summary_text", "text": f"**Checking step {step}**"}]
            items.append(Reasoning(summary=summary, encrypted_content=blob))
        command = _commands(rng)
        call_id = f"call_{step:04d}"
        items.append(
            FunctionCall(name="shell", arguments=json.dumps({"command": command}), call_id=call_id)
        )
        items.append(FunctionCallOutput(call_id=call_id, output=_tool_output(rng, command)))
        if step % 4 == 0:
            text = f"Step {step}: looked at {command[-1]}; next I will run the tests again."
            items.append(
                Message(role="assistant", content=[ContentPart(type="output_text", text=text)])
            )


def measure(body: bytes, level: int, repeats: int) -> dict[str, Any]:
    compress_body(body, level)  # warm the per-thread compressor
    times = []
    size = 0
    for _ in range(repeats):
        result = compress_body(body, level)
        times.append(result.seconds)
        size = result.compressed_size
    assert zstandard.ZstdDecompressor().decompress(result.data) == body
    return {
        "bytes": len(body),
        "compressed": size,
        "ratio": round(len(body) / size, 2),
        "median_ms": round(statistics.median(times) * 1000, 3),
        "best_ms": round(min(times) * 1000, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for label, target in TARGETS.items():
        for reasoning in (True, False):
            body = conversation_body(target, reasoning=reasoning)
            for level in LEVELS:
                key = f"{label} {'with' if reasoning else 'without'} reasoning, level {level}"
                results[key] = measure(body, level, args.repeats)
                r = results[key]
                print(
                    f"{key:45} {r['bytes']:>8} B -> {r['compressed']:>7} B  "
                    f"ratio {r['ratio']:5.2f}  median {r['median_ms']:7.3f} ms  "
                    f"best {r['best_ms']:7.3f} ms"
                )


if __name__ == "__main__":
    main()

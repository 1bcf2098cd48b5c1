"""The core's value types are msgspec Structs, not dataclasses (a dataclass costs ~1 ms of import
time to define, a Struct ~25 µs), and they behave as the dataclasses did: constructors, equality,
hashing, immutability and ``match`` patterns."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from typing import Any

import pytest

import codex_engine.core
from codex_engine.core.events import CommandFinished, TurnCompleted, TurnEvent, TurnSummary
from codex_engine.core.session import SessionDeps
from codex_engine.core.tools.unified_exec.store import ProcessEntry
from codex_engine.core.turn import TurnState


def test_no_core_module_defines_a_dataclass() -> None:
    found = []
    for info in pkgutil.walk_packages(codex_engine.core.__path__, "codex_engine.core."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            defined_here = inspect.isclass(value) and value.__module__ == info.name
            if defined_here and dataclasses.is_dataclass(value):
                found.append(f"{info.name}.{name}")
    assert found == []


def _describe(event: TurnEvent) -> str:
    match event:
        case CommandFinished(call_id, _, exit_code):
            return f"{call_id} exited {exit_code}"
        case TurnCompleted(turn_id=turn_id):
            return f"{turn_id} done"
        case _:
            return "other"


def test_events_construct_compare_hash_and_match_as_before() -> None:
    positional = CommandFinished("c1", ("ls",), 0, "out", 0.5)
    keywords = CommandFinished(
        call_id="c1", command=("ls",), exit_code=0, output="out", duration_s=0.5
    )
    assert positional == keywords and hash(positional) == hash(keywords)
    assert positional.timed_out is False
    assert positional != CommandFinished("c1", ("ls",), 1, "out", 0.5)
    assert len({positional, keywords}) == 1
    assert "CommandFinished(call_id='c1'" in repr(positional)
    with pytest.raises(AttributeError):
        positional.exit_code = 1  # type: ignore[misc]
    assert _describe(positional) == "c1 exited 0"
    assert _describe(TurnCompleted("t1", None, TurnSummary())) == "t1 done"
    # Each default factory makes its own value.
    assert TurnSummary().usage is not TurnSummary().usage


def test_session_deps_take_only_the_client_by_position() -> None:
    client: Any = object()
    assert SessionDeps(client).client is client
    with pytest.raises(TypeError):
        SessionDeps(client, None)  # type: ignore[misc]


def test_mutable_state_stays_mutable_unhashable_or_identity_compared() -> None:
    state = TurnState("t1")
    state.rerouted = True
    assert state.pending_input == [] and state.pending_input is not TurnState("t2").pending_input
    with pytest.raises(TypeError):
        hash(state)
    process: Any = object()
    one, two = (ProcessEntry(1, process, "c", ("sh",)) for _ in range(2))
    assert one != two and one == one and len({one, two}) == 2
    one.finished_reported = True
    assert two.finished_reported is False
    assert not hasattr(one, "__dict__")  # a Struct: slots, no per-instance dict

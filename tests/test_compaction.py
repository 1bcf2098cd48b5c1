"""When history is compacted, what the model is asked, and what history replaces it."""

from __future__ import annotations

from pathlib import Path

from codex_engine.config.catalog import ModelInfo
from codex_engine.core.compaction import (
    COMPACTION_INSTRUCTIONS,
    SUMMARY_CLOSE_TAG,
    SUMMARY_OPEN_TAG,
    build_compaction_prompt,
    collect_user_messages,
    compacted_history,
    is_summary_message,
    is_user_turn_message,
    should_auto_compact,
    summary_from_response,
)
from codex_engine.core.git_info import GitInfo, git_context_message
from codex_engine.protocol.items import (
    ContentPart,
    FunctionCall,
    Message,
    ResponseItem,
    item_to_json,
    user_message,
)


def model(**fields: object) -> ModelInfo:
    return ModelInfo.from_dict({"slug": "m", "display_name": "m", **fields})


def assistant(text: str) -> Message:
    return Message(role="assistant", content=[ContentPart(type="output_text", text=text)])


def prefix() -> list[ResponseItem]:
    git_block = git_context_message([GitInfo(root=Path("/w"))])
    assert git_block is not None
    return [
        Message(role="developer", content=[ContentPart(type="input_text", text="be brief")]),
        user_message("<environment_context>\n</environment_context>"),
        git_block,
    ]


def test_auto_compaction_starts_at_the_explicit_limit() -> None:
    info = model(context_window=1000, auto_compact_token_limit=500)
    assert not should_auto_compact(499, info)
    assert should_auto_compact(500, info)


def test_auto_compaction_defaults_to_ninety_percent_of_the_window() -> None:
    info = model(context_window=1000)
    assert not should_auto_compact(899, info)
    assert should_auto_compact(900, info)


def test_no_auto_compaction_without_a_known_window() -> None:
    assert not should_auto_compact(10**9, model())


def test_prompt_is_the_history_followed_by_the_summary_request() -> None:
    history: list[ResponseItem] = [*prefix(), user_message("fix the bug"), assistant("done")]
    prompt = build_compaction_prompt(history)
    assert prompt[:-1] == history
    last = prompt[-1]
    assert isinstance(last, Message) and last.role == "user"
    assert last.text() == COMPACTION_INSTRUCTIONS
    assert "summary" in COMPACTION_INSTRUCTIONS.lower()


def test_only_messages_the_user_wrote_count_as_user_turns() -> None:
    old_summary = compacted_history([], [], "earlier work")[-1]
    call = FunctionCall(name="shell", arguments="{}", call_id="c")
    history = [
        *prefix(),
        user_message("one"),
        assistant("a"),
        call,
        old_summary,
        user_message("two"),
    ]
    assert collect_user_messages(history) == ["one", "two"]
    assert [is_user_turn_message(i) for i in history].count(True) == 2
    assert is_summary_message(old_summary)
    assert not is_summary_message(user_message("one"))


def test_summary_is_the_last_assistant_text_of_the_answer() -> None:
    answer = [
        assistant("draft"),
        FunctionCall(name="x", arguments="{}", call_id="c"),
        assistant("final"),
    ]
    assert summary_from_response(answer) == "final"
    assert summary_from_response([]) == ""


def test_compacted_history_keeps_prefix_recent_user_messages_and_summary() -> None:
    items = compacted_history(prefix(), ["first ask", "second ask"], "  did X; next Y  ")
    assert [item_to_json(i) for i in items[:3]] == [item_to_json(i) for i in prefix()]
    texts = [i.text() for i in items[3:] if isinstance(i, Message)]
    assert texts[:2] == ["first ask", "second ask"]
    summary = texts[2]
    assert summary.startswith(SUMMARY_OPEN_TAG) and summary.endswith(SUMMARY_CLOSE_TAG)
    assert "did X; next Y\n" in summary
    assert is_summary_message(items[-1])
    assert len(items) == 6


def test_old_user_messages_beyond_the_budget_are_dropped_newest_kept() -> None:
    messages = ["a" * 50, "b" * 50, "c" * 50]
    items = compacted_history([], messages, "s", max_user_chars=100)
    texts = [i.text() for i in items if isinstance(i, Message)]
    assert texts[:-1] == ["b" * 50, "c" * 50]


def test_message_straddling_the_budget_is_shortened_at_its_middle() -> None:
    big = "HEAD" + "x" * 500 + "TAIL"
    items = compacted_history([], ["old", big], "s", max_user_chars=200)
    texts = [i.text() for i in items if isinstance(i, Message)]
    assert len(texts) == 2
    kept = texts[0]
    assert kept.startswith("HEAD") and kept.endswith("TAIL")
    assert "characters omitted" in kept
    assert len(kept) <= 200

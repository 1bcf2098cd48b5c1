"""The reviewer's answer: parsed as the rubric's JSON where it can be, rendered for people."""

from __future__ import annotations

import json

import pytest

from codex_engine.core.review import (
    ReviewTarget,
    parse_review_output,
    render_review_output,
    review_hint,
    review_prompt,
)


def _finding(title: str, start: int) -> dict[str, object]:
    return {
        "title": title,
        "body": "line one\nline two",
        "confidence_score": 0.5,
        "code_location": {
            "absolute_file_path": "/r/a.py",
            "line_range": {"start": start, "end": start + 1},
        },
    }


def test_several_findings_render_under_one_header_with_indented_bodies() -> None:
    output = parse_review_output(
        json.dumps({"findings": [_finding("[P2] A", 1), _finding("[P3] B", 9)]})
    )
    assert [f.priority for f in output.findings] == [None, None]
    assert render_review_output(output) == (
        "Full review comments:\n\n- [P2] A — /r/a.py:1-2\n  line one\n  line two\n\n"
        "- [P3] B — /r/a.py:9-10\n  line one\n  line two"
    )


def test_json_that_does_not_match_the_schema_is_kept_as_text() -> None:
    answer = json.dumps({"findings": [{"title": "no location"}]})
    output = parse_review_output(answer)
    assert output.findings == [] and output.overall_explanation == answer


def test_an_empty_answer_still_renders_a_result() -> None:
    assert render_review_output(parse_review_output("{}"))


@pytest.mark.parametrize(
    ("target", "field"),
    [
        (("baseBranch",), "branch"),
        (("commit",), "sha"),
        (("custom",), "instructions"),
    ],
)
def test_a_target_without_its_value_is_refused(target: tuple[str], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ReviewTarget(target[0])  # type: ignore[arg-type]


def test_a_base_branch_without_a_merge_base_tells_the_reviewer_how_to_find_it() -> None:
    target = ReviewTarget("baseBranch", branch="main")
    assert "git merge-base HEAD" in review_prompt(target)
    assert "git diff abc123" in review_prompt(target, merge_base="abc123")
    assert review_hint(ReviewTarget("commit", sha="0123456789")) == "commit 0123456"

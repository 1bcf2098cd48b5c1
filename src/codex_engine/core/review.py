"""Code review: what a review target asks the reviewer, the reviewer's rubric, and its answer
(findings and a verdict, as JSON) parsed and rendered as text."""

from __future__ import annotations

import asyncio
import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

import msgspec

__all__ = [
    "ReviewFinding",
    "ReviewOutput",
    "ReviewTarget",
    "find_merge_base",
    "parse_review_output",
    "render_review_output",
    "review_hint",
    "review_instructions",
    "review_prompt",
]

ReviewTargetKind = Literal["uncommittedChanges", "baseBranch", "commit", "custom"]


class ReviewTarget(msgspec.Struct, frozen=True):
    """What to review: the working tree, the branch against ``branch``, commit ``sha`` (with an
    optional ``title`` for people), or free-form ``instructions``."""

    kind: ReviewTargetKind
    branch: str = ""
    sha: str = ""
    title: str | None = None
    instructions: str = ""

    def __post_init__(self) -> None:
        needed = {"baseBranch": self.branch, "commit": self.sha, "custom": self.instructions}
        if self.kind in needed and not needed[self.kind].strip():
            field = {"baseBranch": "branch", "commit": "sha", "custom": "instructions"}[self.kind]
            raise ValueError(f"a {self.kind} review needs a nonempty `{field}`")


@cache
def review_instructions() -> str:
    """The reviewer's rubric: its base instructions in place of the session's (package data)."""
    path = resources.files("codex_engine.config").joinpath("prompts/review_instructions.md")
    return path.read_text(encoding="utf-8")


def review_prompt(target: ReviewTarget, *, merge_base: str | None = None) -> str:
    """The user message that opens the review: which change to look at and how to find it."""
    match target.kind:
        case "uncommittedChanges":
            return (
                "Review the changes in the working tree that are not committed yet (staged, "
                "unstaged and untracked files) and report prioritized findings."
            )
        case "baseBranch":
            branch = target.branch
            if merge_base is not None:
                return (
                    f"Review the changes of this branch against the base branch '{branch}'. "
                    f"Their merge base is commit {merge_base}: run `git diff {merge_base}` to see "
                    f"what would be merged into {branch}, and report prioritized, actionable "
                    "findings."
                )
            return (
                f"Review the changes of this branch against the base branch '{branch}'. First "
                f"find the merge base of HEAD and {branch} (its upstream if it has one), e.g. "
                f'`git merge-base HEAD "$(git rev-parse --abbrev-ref "{branch}@{{upstream}}")"`, '
                f"then run `git diff` against that commit to see what would be merged into "
                f"{branch}, and report prioritized, actionable findings."
            )
        case "commit":
            named = f' ("{target.title}")' if target.title else ""
            return (
                f"Review the changes that commit {target.sha}{named} introduced and report "
                "prioritized, actionable findings."
            )
        case "custom":
            return target.instructions.strip()


def review_hint(target: ReviewTarget) -> str:
    """A short label of what is reviewed, for people (the ``enteredReviewMode`` item)."""
    match target.kind:
        case "uncommittedChanges":
            return "current changes"
        case "baseBranch":
            return f"changes against '{target.branch}'"
        case "commit":
            short = target.sha[:7]
            return f"commit {short}: {target.title}" if target.title else f"commit {short}"
        case "custom":
            return target.instructions.strip()


async def find_merge_base(cwd: Path, branch: str) -> str | None:
    """The merge base of HEAD and ``branch`` (its upstream when it has one), or ``None`` when
    git cannot tell (no repository, unknown branch): the reviewer then finds it itself."""
    upstream = await _git(cwd, "rev-parse", "--abbrev-ref", f"{branch}@{{upstream}}")
    for base in (upstream, branch):
        if base:
            found = await _git(cwd, "merge-base", "HEAD", base)
            if found:
                return found
    return None


async def _git(cwd: Path, *args: str) -> str | None:
    try:
        process = await asyncio.create_subprocess_exec(
            "git",
            *args,
            cwd=cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        return None
    out, _ = await process.communicate()
    text = out.decode("utf-8", "replace").strip()
    return text if process.returncode == 0 and text else None


# -- the reviewer's answer ---------------------------------------------------------------------


# The reviewer is a model: its JSON is read leniently (unknown keys ignored, "5" taken for 5 by
# msgspec.convert(strict=False)), and an answer that does not fit becomes plain explanation.


class LineRange(msgspec.Struct):
    start: int
    end: int


class CodeLocation(msgspec.Struct):
    absolute_file_path: str
    line_range: LineRange


class ReviewFinding(msgspec.Struct, kw_only=True):
    title: str
    body: str
    confidence_score: float = 0.0
    priority: int | None = None
    code_location: CodeLocation


class ReviewOutput(msgspec.Struct, kw_only=True):
    """The reviewer's structured answer, as the rubric asks for it."""

    findings: list[ReviewFinding] = msgspec.field(default_factory=list)
    overall_correctness: str = ""
    overall_explanation: str = ""
    overall_confidence_score: float = 0.0


def parse_review_output(text: str) -> ReviewOutput:
    """The reviewer's answer: the whole text as JSON, else its outermost ``{...}``; when
    neither parses, the text itself becomes the explanation (no findings)."""
    candidates = [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
            if isinstance(data, dict):
                return msgspec.convert(data, ReviewOutput, strict=False)
        except (ValueError, msgspec.ValidationError):
            continue
    return ReviewOutput(overall_explanation=text)


def _location(finding: ReviewFinding) -> str:
    where = finding.code_location
    return f"{where.absolute_file_path}:{where.line_range.start}-{where.line_range.end}"


def findings_block(findings: list[ReviewFinding]) -> str:
    """The findings as plain text: a header, then each title with its location and body."""
    lines = ["Full review comments:" if len(findings) > 1 else "Review comment:"]
    for finding in findings:
        lines += ["", f"- {finding.title} — {_location(finding)}"]
        lines += [f"  {line}" for line in finding.body.splitlines()]
    return "\n".join(lines)


def render_review_output(output: ReviewOutput) -> str:
    """The review as people read it: the explanation, then the findings."""
    parts = [output.overall_explanation.strip()] if output.overall_explanation.strip() else []
    if output.findings:
        parts.append(findings_block(output.findings))
    return "\n\n".join(parts) or "The reviewer gave no findings and no explanation."

"""``review/start``: what to review (the working tree, a base branch, a commit, or free-form
instructions) and where the review turn runs (this thread, or a detached new one)."""

from typing import Annotated, Literal

from pydantic import Field

from codex_engine.protocol.app_server._base import _Out, _Params
from codex_engine.protocol.app_server.turns import Turn

__all__ = [
    "BaseBranchReviewTarget",
    "CommitReviewTarget",
    "CustomReviewTarget",
    "ReviewStartParams",
    "ReviewStartResponse",
    "UncommittedChangesReviewTarget",
]


class UncommittedChangesReviewTarget(_Params):
    """The working tree: staged, unstaged and untracked files."""

    type: Literal["uncommittedChanges"]


class BaseBranchReviewTarget(_Params):
    """The current branch's changes against ``branch``."""

    type: Literal["baseBranch"]
    branch: str


class CommitReviewTarget(_Params):
    """The changes one commit introduced; ``title`` labels it for people."""

    type: Literal["commit"]
    sha: str
    title: str | None = None


class CustomReviewTarget(_Params):
    """Free-form review instructions."""

    type: Literal["custom"]
    instructions: str


ReviewTargetParams = Annotated[
    UncommittedChangesReviewTarget
    | BaseBranchReviewTarget
    | CommitReviewTarget
    | CustomReviewTarget,
    Field(discriminator="type"),
]


class ReviewStartParams(_Params):
    thread_id: str
    target: ReviewTargetParams
    #: ``inline`` (default): on this thread; ``detached``: on a new thread forked from it.
    delivery: Literal["inline", "detached"] | None = None


class ReviewStartResponse(_Out):
    turn: Turn
    #: The thread the review runs on: this one (inline) or the new one (detached).
    review_thread_id: str

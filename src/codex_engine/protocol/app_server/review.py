"""``review/start``: what to review (the working tree, a base branch, a commit, or free-form
instructions) and where the review turn runs (this thread, or a detached new one)."""

from typing import Literal

from codex_engine.protocol.app_server._base import _Out, _Params, _TaggedParams
from codex_engine.protocol.app_server.turns import Turn

__all__ = [
    "BaseBranchReviewTarget",
    "CommitReviewTarget",
    "CustomReviewTarget",
    "ReviewStartParams",
    "ReviewStartResponse",
    "UncommittedChangesReviewTarget",
]


class UncommittedChangesReviewTarget(
    _TaggedParams, tag="uncommittedChanges", frozen=True, kw_only=True
):
    """The working tree: staged, unstaged and untracked files."""


class BaseBranchReviewTarget(_TaggedParams, tag="baseBranch", frozen=True, kw_only=True):
    """The current branch's changes against ``branch``."""

    branch: str


class CommitReviewTarget(_TaggedParams, tag="commit", frozen=True, kw_only=True):
    """The changes one commit introduced; ``title`` labels it for people."""

    sha: str
    title: str | None = None


class CustomReviewTarget(_TaggedParams, tag="custom", frozen=True, kw_only=True):
    """Free-form review instructions."""

    instructions: str


#: Told apart by ``type``.
ReviewTargetParams = (
    UncommittedChangesReviewTarget
    | BaseBranchReviewTarget
    | CommitReviewTarget
    | CustomReviewTarget
)


class ReviewStartParams(_Params, frozen=True, kw_only=True):
    thread_id: str
    target: ReviewTargetParams
    #: ``inline`` (default): on this thread; ``detached``: on a new thread forked from it.
    delivery: Literal["inline", "detached"] | None = None


class ReviewStartResponse(_Out, kw_only=True):
    turn: Turn
    #: The thread the review runs on: this one (inline) or the new one (detached).
    review_thread_id: str

"""Rate-limit snapshots parsed from response headers and from WebSocket in-band events."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codex_engine.protocol.rate_limits import (
    CreditsSnapshot,
    RateLimitSnapshot,
    RateLimitWindow,
    active_rate_limit,
    normalize_limit_id,
    parse_rate_limit_event,
    parse_rate_limit_headers,
)

FULL_CODEX_HEADERS = {
    "X-Codex-Primary-Used-Percent": "42.5",
    "x-codex-primary-window-minutes": "300",
    "x-codex-primary-reset-at": "1700000000",
    "x-codex-secondary-used-percent": "7",
    "x-codex-secondary-window-minutes": "10080",
    "x-codex-secondary-reset-at": "1700600000",
    "x-codex-limit-name": "Codex",
    "x-codex-credits-has-credits": "true",
    "x-codex-credits-unlimited": "0",
    "x-codex-credits-balance": "12.50",
}


def test_codex_family_is_read_from_headers_in_any_case() -> None:
    assert parse_rate_limit_headers(FULL_CODEX_HEADERS) == [
        RateLimitSnapshot(
            limit_id="codex",
            limit_name="Codex",
            primary=RateLimitWindow(used_percent=42.5, window_minutes=300, resets_at=1700000000),
            secondary=RateLimitWindow(used_percent=7.0, window_minutes=10080, resets_at=1700600000),
            credits=CreditsSnapshot(has_credits=True, unlimited=False, balance="12.50"),
            plan_type=None,
        )
    ]


def test_no_rate_limit_headers_gives_empty_list() -> None:
    assert parse_rate_limit_headers({}) == []
    assert parse_rate_limit_headers({"content-type": "text/event-stream"}) == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        # all-zero window carries no information
        ({"x-codex-primary-used-percent": "0"}, None),
        (
            {"x-codex-primary-used-percent": "0", "x-codex-primary-window-minutes": "0"},
            None,
        ),
        # zero usage still counts when the window has a length or a reset time
        (
            {"x-codex-primary-used-percent": "0", "x-codex-primary-window-minutes": "60"},
            RateLimitWindow(used_percent=0.0, window_minutes=60, resets_at=None),
        ),
        (
            {"x-codex-primary-used-percent": "0.0", "x-codex-primary-reset-at": "1700000000"},
            RateLimitWindow(used_percent=0.0, window_minutes=None, resets_at=1700000000),
        ),
        (
            {"x-codex-primary-used-percent": " 12 ", "x-codex-primary-window-minutes": "x"},
            RateLimitWindow(used_percent=12.0, window_minutes=None, resets_at=None),
        ),
        # used_percent must parse as a finite number
        ({"x-codex-primary-used-percent": "abc", "x-codex-primary-window-minutes": "60"}, None),
        ({"x-codex-primary-used-percent": "nan", "x-codex-primary-window-minutes": "60"}, None),
        ({"x-codex-primary-used-percent": "1e999"}, None),
        ({"x-codex-primary-used-percent": "1_0"}, None),
    ],
)
def test_primary_window_is_kept_only_when_it_says_something(
    extra: dict[str, str], expected: RateLimitWindow | None
) -> None:
    snapshots = parse_rate_limit_headers(extra)
    if expected is None:
        assert snapshots == []
    else:
        assert snapshots[0].primary == expected


def test_extra_families_are_discovered_and_follow_codex() -> None:
    headers = {
        "x-codex-primary-used-percent": "10",
        "x-codex-primary-window-minutes": "300",
        "x-codex-secondary-primary-used-percent": "80",
        "x-codex-secondary-primary-window-minutes": "60",
        "x-codex-secondary-limit-name": "GPT-5-Codex-Mini",
        "X-Other-Model-Primary-Used-Percent": "5",
        "x-other-model-primary-reset-at": "1700000000",
        # discovered, but every window is all-zero: dropped
        "x-idle-primary-used-percent": "0",
    }
    snapshots = parse_rate_limit_headers(headers)
    assert [s.limit_id for s in snapshots] == ["codex", "codex_secondary", "other_model"]
    secondary = snapshots[1]
    assert secondary.limit_name == "GPT-5-Codex-Mini"
    assert secondary.primary == RateLimitWindow(used_percent=80.0, window_minutes=60)
    assert secondary.secondary is None
    assert snapshots[2].primary == RateLimitWindow(used_percent=5.0, resets_at=1700000000)


def test_extra_family_alone_is_reported_without_codex() -> None:
    snapshots = parse_rate_limit_headers({"x-codex-bengalfox-primary-used-percent": "3.5"})
    assert [s.limit_id for s in snapshots] == ["codex_bengalfox"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"x-codex-credits-has-credits": "TRUE", "x-codex-credits-unlimited": "true"},
            CreditsSnapshot(has_credits=True, unlimited=True, balance=None),
        ),
        (
            {"x-codex-credits-has-credits": "0", "x-codex-credits-unlimited": "1"},
            CreditsSnapshot(has_credits=False, unlimited=True, balance=None),
        ),
        (
            {"x-codex-credits-has-credits": "1", "x-codex-credits-balance": " 3 "},
            CreditsSnapshot(has_credits=True, unlimited=False, balance="3"),
        ),
        ({"x-codex-credits-has-credits": "yes", "x-codex-credits-balance": "3"}, None),
        ({"x-codex-credits-balance": "3"}, None),
    ],
)
def test_credit_headers(headers: dict[str, str], expected: CreditsSnapshot | None) -> None:
    snapshots = parse_rate_limit_headers(headers)
    if expected is None:
        assert snapshots == []
    else:
        assert snapshots == [RateLimitSnapshot(limit_id="codex", credits=expected)]


def test_active_limit_header_selects_the_family() -> None:
    headers = {
        "x-codex-primary-used-percent": "10",
        "x-codex-primary-window-minutes": "300",
        "x-codex-secondary-primary-used-percent": "100",
        "x-codex-secondary-primary-window-minutes": "60",
    }
    assert active_rate_limit(headers) is not None
    assert active_rate_limit(headers).limit_id == "codex"  # type: ignore[union-attr]
    headers["X-Codex-Active-Limit"] = "codex-secondary"
    assert active_rate_limit(headers).limit_id == "codex_secondary"  # type: ignore[union-attr]
    headers["x-codex-active-limit"] = "missing"
    assert active_rate_limit(headers).limit_id == "codex"  # type: ignore[union-attr]
    assert active_rate_limit({}) is None


def test_normalize_limit_id() -> None:
    assert normalize_limit_id(" Codex-Secondary ") == "codex_secondary"


def test_models_are_frozen() -> None:
    window = RateLimitWindow(used_percent=1.0, window_minutes=None, resets_at=None)
    with pytest.raises(AttributeError):
        window.used_percent = 2.0  # type: ignore[misc]


def test_rate_limit_event_is_parsed() -> None:
    event = {
        "type": "codex.rate_limits",
        "plan_type": "plus",
        "rate_limits": {
            "primary": {"used_percent": 25, "window_minutes": 300, "reset_at": 1700000000},
            "secondary": {"used_percent": 3.5, "window_minutes": None, "reset_at": None},
        },
        "credits": {"has_credits": True, "unlimited": False, "balance": "9.99"},
        "metered_limit_name": "codex-secondary",
    }
    assert parse_rate_limit_event(event) == RateLimitSnapshot(
        limit_id="codex_secondary",
        limit_name="codex-secondary",
        primary=RateLimitWindow(used_percent=25.0, window_minutes=300, resets_at=1700000000),
        secondary=RateLimitWindow(used_percent=3.5, window_minutes=None, resets_at=None),
        credits=CreditsSnapshot(has_credits=True, unlimited=False, balance="9.99"),
        plan_type="plus",
    )


def test_rate_limit_event_defaults_and_other_types() -> None:
    snapshot = parse_rate_limit_event({"type": "codex.rate_limits", "limit_name": "codex"})
    assert snapshot == RateLimitSnapshot(limit_id="codex", limit_name="codex")
    bare = parse_rate_limit_event({"type": "codex.rate_limits", "rate_limits": None})
    assert bare == RateLimitSnapshot(limit_id="codex")
    assert parse_rate_limit_event({"type": "response.created"}) is None
    assert parse_rate_limit_event({}) is None


def test_rate_limit_event_skips_malformed_parts() -> None:
    event = {
        "type": "codex.rate_limits",
        "rate_limits": {
            "primary": {"used_percent": "high"},
            "secondary": {"used_percent": True},
        },
        "credits": {"has_credits": "yes"},
        "plan_type": 3,
    }
    assert parse_rate_limit_event(event) == RateLimitSnapshot(limit_id="codex")


_RATE_LIMIT_NAMES = st.sampled_from(
    [
        "x-codex-primary-used-percent",
        "x-codex-primary-window-minutes",
        "x-codex-primary-reset-at",
        "x-codex-secondary-used-percent",
        "x-codex-credits-has-credits",
        "x-codex-credits-unlimited",
        "x-codex-credits-balance",
        "x-codex-limit-name",
        "x--primary-used-percent",
        "x-a_b-primary-used-percent",
        "x-codex-active-limit",
    ]
)
_VALUES = st.one_of(
    st.text(),
    st.sampled_from(["0", "1", "-1", "1e309", "nan", "inf", "true", "99999999999999999999", ""]),
    st.floats().map(str),
    st.integers().map(str),
)


@given(st.dictionaries(st.one_of(st.text(), _RATE_LIMIT_NAMES), _VALUES))
def test_header_parsing_never_raises(headers: dict[str, str]) -> None:
    snapshots = parse_rate_limit_headers(headers)
    assert all(s.has_data() for s in snapshots)
    assert len({s.limit_id for s in snapshots}) == len(snapshots)
    active_rate_limit(headers, snapshots)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(
    st.fixed_dictionaries(
        {"type": st.just("codex.rate_limits")},
        optional={
            "rate_limits": st.fixed_dictionaries(
                {}, optional={"primary": _JSON, "secondary": _JSON}
            )
            | _JSON,
            "credits": _JSON,
            "plan_type": _JSON,
            "limit_name": _JSON,
            "metered_limit_name": _JSON,
        },
    )
)
def test_event_parsing_never_raises(payload: dict[str, Any]) -> None:
    snapshot = parse_rate_limit_event(payload)
    assert snapshot is not None
    assert snapshot.limit_id

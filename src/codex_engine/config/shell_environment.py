"""`[shell_environment_policy]`: which environment variables the model's commands see.

The TOML shape (validated strictly; unknown keys are warned about, not refused) and the
resolved, immutable :class:`ShellEnvironmentPolicy`. Applying it lives in ``core/tools/env_policy``.
"""

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import msgspec

from codex_engine.protocol.secret_repr import SecretRepr

__all__ = [
    "POLICY_KEYS",
    "POLICY_TABLE",
    "ShellEnvironmentInherit",
    "ShellEnvironmentPolicy",
    "ShellEnvironmentPolicyToml",
    "resolve_shell_environment_policy",
]

#: The table's name in config.toml (also allowed inside `[profiles.<name>]`).
POLICY_TABLE = "shell_environment_policy"

ShellEnvironmentInherit = Literal["all", "core", "none"]


class ShellEnvironmentPolicy(SecretRepr, msgspec.Struct, frozen=True):
    """How a command's environment is built from the process environment.

    Applied in this order: ``inherit`` picks the starting set (everything, a few core
    variables, or nothing); unless ``ignore_default_excludes``, names containing ``KEY``,
    ``SECRET`` or ``TOKEN`` are dropped; names matching an ``exclude`` pattern are dropped;
    ``set_vars`` are added; if ``include_only`` is given, only matching names stay. Patterns are
    globs (``*``, ``?``) matched against the whole name, ignoring case.
    """

    inherit: ShellEnvironmentInherit = "all"
    ignore_default_excludes: bool = True
    exclude: tuple[str, ...] = ()
    # Kept out of repr: users put tokens here on purpose, and a Config may end up in a log.
    set_vars: Mapping[str, str] = msgspec.field(default_factory=dict)
    include_only: tuple[str, ...] = ()
    #: `experimental_use_profile`: accepted for compatibility; codex-engine runs the command
    #: the model gives (which is usually a login shell already) and warns that it is ignored.
    use_profile: bool = False

    secret_fields: ClassVar[frozenset[str]] = frozenset({"set_vars"})


class ShellEnvironmentPolicyToml(msgspec.Struct, frozen=True, kw_only=True):
    """The table as written. Every key is optional; unknown keys are ignored here and named by
    :meth:`unknown_keys` (given the table as written)."""

    inherit: ShellEnvironmentInherit | None = None
    ignore_default_excludes: bool | None = None
    exclude: list[str] | None = None
    # `set` is the key users write; the attribute avoids shadowing the builtin.
    set_vars: dict[str, str] | None = msgspec.field(default=None, name="set")
    include_only: list[str] | None = None
    experimental_use_profile: bool | None = None

    @staticmethod
    def unknown_keys(written: Mapping[str, Any]) -> list[str]:
        """The keys of ``written`` (the table as in the file) that the policy does not know."""
        return sorted(key for key in written if key not in POLICY_KEYS)

    def resolve(self) -> ShellEnvironmentPolicy:
        """Defaults as the reference CLI 0.163 (measured): inherit everything, filter nothing."""
        return ShellEnvironmentPolicy(
            inherit=self.inherit or "all",
            ignore_default_excludes=(
                True if self.ignore_default_excludes is None else self.ignore_default_excludes
            ),
            exclude=tuple(self.exclude or ()),
            set_vars=dict(self.set_vars or {}),
            include_only=tuple(self.include_only or ()),
            use_profile=bool(self.experimental_use_profile),
        )


#: The keys the table knows, as users write them (for warnings about the others).
POLICY_KEYS: tuple[str, ...] = ShellEnvironmentPolicyToml.__struct_encode_fields__


def resolve_shell_environment_policy(
    table: ShellEnvironmentPolicyToml | None,
    *,
    source_for: Callable[[str], str],
    written: Mapping[str, Any] | None = None,
) -> tuple[ShellEnvironmentPolicy, list[str]]:
    """The resolved policy, and warnings for the keys it ignores (unknown or unsupported).

    ``written`` is the table as the config wrote it (for its unknown keys); ``source_for(key)``
    names where a key of the table came from, for the warning text.
    """
    if table is None:
        return ShellEnvironmentPolicy(), []
    warnings = [
        f"unknown key `{key}` in [{POLICY_TABLE}] ({source_for(key)}) is ignored; known keys: "
        f"{', '.join(POLICY_KEYS)}. Fix the spelling or remove it."
        for key in ShellEnvironmentPolicyToml.unknown_keys(written or {})
    ]
    policy = table.resolve()
    if policy.use_profile:
        warnings.append(
            f"`{POLICY_TABLE}.experimental_use_profile` is not supported by codex-engine and is "
            "ignored: commands run exactly as the model gives them (usually `bash -lc`)."
        )
    return policy, warnings

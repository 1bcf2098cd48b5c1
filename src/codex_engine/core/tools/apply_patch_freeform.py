"""``apply_patch`` as a custom (freeform) tool: the model writes the patch itself as the call's
input, constrained by a Lark grammar of the patch format (the one :mod:`protocol.patch` parses).
"""

from __future__ import annotations

__all__ = ["APPLY_PATCH_LARK_GRAMMAR", "apply_patch_freeform_spec"]

#: The patch format as a Lark grammar, so the model can only produce well-formed patches.
APPLY_PATCH_LARK_GRAMMAR = r"""start: begin section+ end
begin: "*** Begin Patch" LF
end: "*** End Patch" LF?

section: add_file | delete_file | update_file
add_file: "*** Add File: " path LF added+
delete_file: "*** Delete File: " path LF
update_file: "*** Update File: " path LF move_to? hunk+
move_to: "*** Move to: " path LF

hunk: anchor body_line+ end_of_file?
anchor: ("@@" | "@@ " TEXT) LF
body_line: (" " | "+" | "-") TEXT? LF
added: "+" TEXT? LF
end_of_file: "*** End of File" LF

path: TEXT
TEXT: /[^\r\n]+/

%import common.LF
"""

_DESCRIPTION = (
    "Edit files with a patch. The input is the patch itself (not JSON): '*** Begin Patch', one "
    "or more file sections, then '*** End Patch'. A section is '*** Add File: PATH' followed by "
    "the new file's lines, each starting with '+'; '*** Delete File: PATH'; or '*** Update "
    "File: PATH', optionally followed by '*** Move to: NEW_PATH', then changes that each start "
    "with '@@' (optionally followed by a line that locates the change, such as a function's "
    "signature) and list lines starting with ' ' (kept), '-' (removed) or '+' (added), with "
    "about three kept lines around each change. '*** End of File' after a change anchors it at "
    "the end of the file. Paths are relative to the working directory."
)


def apply_patch_freeform_spec() -> dict[str, object]:
    """``apply_patch`` as a Responses custom tool whose input follows the patch grammar."""
    return {
        "type": "custom",
        "name": "apply_patch",
        "description": _DESCRIPTION,
        "format": {"type": "grammar", "syntax": "lark", "definition": APPLY_PATCH_LARK_GRAMMAR},
    }

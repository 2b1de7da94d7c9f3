"""One exception type for problems the user can fix (bad input, missing files, bad config).

The CLI prints these as one line and exits non-zero; anything else is a bug and keeps its traceback.
"""


class FeintError(Exception):
    """A user-facing error whose message names the file, the field and, where possible, the fix."""


def warn(message: str) -> None:
    """One line on stderr, `feint: warning: MESSAGE`: something the user may accept, but should know."""
    import sys

    print(f"feint: warning: {message}", file=sys.stderr)


def note(message: str) -> None:
    """One line on stderr, `feint: note: MESSAGE`: a default feint chose that the user did not state."""
    import sys

    print(f"feint: note: {message}", file=sys.stderr)

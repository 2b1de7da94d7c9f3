"""One exception type for problems the user can fix (bad input, missing files, bad config).

The CLI prints these as one line and exits non-zero; anything else is a bug and keeps its traceback.
"""


class FeintError(Exception):
    """A user-facing error whose message names the file, the field and, where possible, the fix."""

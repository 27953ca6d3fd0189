"""The harness's own error type: a one-line message for users, printed by the CLIs without a traceback."""


class ReproError(Exception):
    """A problem the user can fix; the message names it and says what to do."""

"""The one error type engines raise, so callers can report it without knowing the engine."""


class EngineError(Exception):
    """An engine failed in a way the user can act on.

    The message says what failed (which URL, which file) and what to do about it; it is shown
    to the user as is, so it must never contain a stack trace or a secret.
    """

"""The one exception type that the CLI turns into a single line and exit status 2."""


class InputError(Exception):
    """Bad input from the user. The message says what is wrong and what to do, in one line."""


def first_line(err: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__

"""The one exception type that the CLI turns into a single line and exit status 2."""


class InputError(Exception):
    """Bad input from the user. The message says what is wrong and what to do, in one line."""

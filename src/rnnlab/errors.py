"""The one exception type that means "the user gave us something wrong".

Library code raises `UserError` with a message a person can act on; the CLI turns it into a
single `error: …` line on stderr and exit code 2. Anything else escaping is a bug and is
allowed to show its traceback.
"""


class UserError(Exception):
    """Bad input from the user: a file, a flag, a character, a checkpoint directory."""

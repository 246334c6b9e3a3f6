"""The rules a local account's password must meet, wherever one is set.

At least 12 characters; not containing the username (in any case); not one of the
20,000 common passwords in `common-passwords.txt.gz` (see `common-passwords.SOURCE`),
compared in lower case as the list is.
"""

import gzip
from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 256
_COMMON = Path(__file__).with_name("common-passwords.txt.gz")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The list of common passwords, read once (about 20,000 short strings)."""
    with gzip.open(_COMMON, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def password_problem(password: str, username: str | None) -> str | None:
    """What is wrong with `password` for the account `username`, naming the rule; None
    when it meets them all. The message never repeats the password."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if username and username.casefold() in password.casefold():
        return "The password must not contain the username."
    if password.lower() in common_passwords():
        return "This password is in a list of commonly used passwords; choose another."
    return None

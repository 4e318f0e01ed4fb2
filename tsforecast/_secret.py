"""The secret key that authenticates the files tsforecast reads back: backtest checkpoints and saved models.

Without a key, such a file carries a SHA-256 digest of its contents: that detects a damaged or
truncated file, not a deliberate forgery (anyone who can edit the file can recompute the digest).
With a key, from the environment variable ``TSFORECAST_KEY`` (its text) or ``TSFORECAST_KEY_FILE``
(a file holding it, surrounding whitespace ignored), files carry an HMAC-SHA256 of their contents
under that key instead, which nobody without the key can compute. A key file must lie outside the
directory it guards (whoever can write there could replace it), be a regular file, and have one
name: a hard link to it could lie inside that directory, where it could be rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .errors import DataError

__all__ = ["KEY_ENV", "KEY_FILE_ENV", "mac", "matches", "secret_key"]

KEY_ENV = "TSFORECAST_KEY"
KEY_FILE_ENV = "TSFORECAST_KEY_FILE"


def secret_key(guarded: Path) -> bytes | None:
    """The key that authenticates files under the directory ``guarded``, or ``None`` when none is set.

    Raises
    ------
    DataError
        If both variables are set, the key is empty, or the key file is missing, unreadable,
        inside ``guarded``, not a regular file or has more than one hard link.
    """
    text, named = os.environ.get(KEY_ENV), os.environ.get(KEY_FILE_ENV)
    if text is not None and named is not None:
        raise DataError(f"Both {KEY_ENV} and {KEY_FILE_ENV} are set; unset one of them.")
    if named is not None:
        path = Path(named).expanduser().resolve()
        if path.is_relative_to(guarded.expanduser().resolve()):
            raise DataError(
                f"The key file {KEY_FILE_ENV}={named!r} lies inside {str(guarded)!r}, the directory it protects; "
                "move it outside that directory."
            )
        try:
            status = path.stat()
            if not stat.S_ISREG(status.st_mode):
                raise DataError(
                    f"The key file {KEY_FILE_ENV}={named!r} is not a regular file; name a file holding the key."
                )
            if status.st_nlink > 1:
                raise DataError(
                    f"The key file {KEY_FILE_ENV}={named!r} has {status.st_nlink} hard links; one could lie inside "
                    f"{str(guarded)!r}, where whoever can write could change the key. Use a copy with a single name."
                )
            key = path.read_bytes().strip()
        except OSError as exc:
            raise DataError(f"The key file {KEY_FILE_ENV}={named!r} cannot be read ({exc.strerror}).") from exc
    elif text is not None:
        key = text.encode()
    else:
        return None
    if not key:
        raise DataError(f"The key in {KEY_FILE_ENV if named is not None else KEY_ENV} is empty; set a non-empty key.")
    return key


def mac(key: bytes, parts: Iterable[bytes]) -> str:
    """The hex HMAC-SHA256 of the concatenated ``parts`` under ``key``."""
    code = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        code.update(part)
    return code.hexdigest()


def matches(expected: object, actual: str) -> bool:
    """Whether a stored code ``expected`` equals ``actual``, compared in constant time."""
    return isinstance(expected, str) and hmac.compare_digest(expected.encode(), actual.encode())

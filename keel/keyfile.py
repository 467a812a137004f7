"""Secrets kept in files Keel makes itself (the secret key, the audit anchor key).

No Django here: settings read it before Django is set up.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def key_from_file(path: Path) -> str:
    """The key kept in `path`, generated there (owner-only, mode 0600) on first use.

    Written to a temporary file and linked into place, so two processes starting at once
    (gunicorn workers, a worker and the server) agree on one key and none reads a half file.
    """
    path = Path(path)
    try:
        key = path.read_text().strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(50) + "\n")
        with contextlib.suppress(FileExistsError):  # another process won the race: use its key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_text().strip()

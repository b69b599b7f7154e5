"""Files that hold the desk's data are created readable by their owner only."""

from __future__ import annotations

import os


def create_private_file(path: str) -> None:
    """Create ``path`` with mode 0600 if it is missing (an existing file is left as is).

    SQLite creates a database with the process umask (often world-readable) and gives
    its -wal, -shm and -journal files the database file's own mode, so creating the
    file first keeps the whole set private: tickets, customers and token hashes."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except (FileExistsError, FileNotFoundError):
        # Missing directory: SQLite's own "unable to open database file" says so.
        return
    os.close(fd)

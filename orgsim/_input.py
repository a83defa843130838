"""Read input files safely: regular files only, their size checked before a byte is read.

``open()`` on a FIFO blocks until a writer comes, and ``read()`` on
``/dev/zero``, ``/dev/urandom`` or a sparse 10 GB file reads until memory runs
out. :func:`read_regular_file` opens without blocking, asks the open file
what it is and how large, and only then reads, at most ``limit`` bytes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["InputFileError", "read_regular_file"]


class InputFileError(Exception):
    """A file that cannot be read as input; ``reason`` says why in words, ``kind`` in one word."""

    def __init__(self, kind: str, reason: str, size: int | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        #: The file's size in bytes, for ``too large``.
        self.size = size


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_regular_file(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, refusing anything else and anything over ``limit`` bytes.

    Raises :class:`InputFileError` (``kind`` one of ``missing``, ``directory``,
    ``special``, ``too large``, ``unreadable``); the file's contents are never
    part of a message.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputFileError("missing", "no such file") from None
    except IsADirectoryError:
        raise InputFileError("directory", "is a directory, not a file") from None
    except OSError as exc:
        raise InputFileError("unreadable", f"cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputFileError("directory", "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError("special", f"is {_kind_of(info.st_mode)}, not a regular file; not read")
        if info.st_size > limit:
            raise InputFileError("too large", f"file is {info.st_size:,} bytes; the limit is {limit:,}", info.st_size)
        chunks: list[bytes] = []
        size = 0
        # The file may grow while it is read: never take more than the limit.
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise InputFileError("too large", f"file is over {limit:,} bytes; the limit is {limit:,}", size)
        return b"".join(chunks)
    except OSError as exc:
        raise InputFileError("unreadable", f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)

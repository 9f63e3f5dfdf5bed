"""Domain errors. A user's mistake is reported as one clear message, never a traceback.

Every error names *where* (file, and the field / process / exchange inside it), *what* is
wrong and, where it helps, *what is allowed*. The CLI prints ``str(error)`` and exits 2.
"""
from __future__ import annotations


class LcaBatteryError(Exception):
    """Base class of every error caused by user input or inventory data."""

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 allowed: str | None = None):
        self.message = message
        self.file = file
        self.field = field
        self.allowed = allowed
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, f"field '{self.field}'" if self.field else None) if p)
        text = f"{where}: {self.message}" if where else self.message
        if self.allowed:
            text += f" (allowed: {self.allowed})"
        return text


class StudyError(LcaBatteryError):
    """A study file or a ``--set`` override is invalid."""


class TableCellError(StudyError):
    """A scenario of a sweep's scenario table is invalid: ``row`` (1-based) and, when the bad value is in
    one of the table's cells, its ``column`` (else None: the error lies in the study the row overrides)."""

    def __init__(self, message: str, *, row: int, column: str | None = None, **kw):
        self.row = row
        self.column = column
        super().__init__(message, **kw)


class InventoryError(LcaBatteryError):
    """The inventory files are invalid. Holds every problem found, one per line."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the inventories:"
        super().__init__("\n  ".join([head, *self.problems]))


class UnitError(LcaBatteryError):
    """A unit is unknown or its dimension does not match."""


def os_error(exc: OSError, doing: str) -> LcaBatteryError:
    """One line for a file-system error: the operation, the path and the reason."""
    import errno
    reason = exc.strerror or exc.__class__.__name__
    hint = {errno.EACCES: "check the folder's permissions", errno.EPERM: "check the folder's permissions",
            errno.EROFS: "the file system is read-only", errno.ENOSPC: "free some disk space",
            errno.ENOENT: "check the path", errno.EISDIR: "a folder stands where a file is expected",
            errno.ENOTDIR: "a file stands where a folder is expected"}.get(exc.errno)
    path = f" '{exc.filename}'" if exc.filename else ""
    return LcaBatteryError(f"cannot {doing}:{path} {reason}" + (f" ({hint})" if hint else ""))

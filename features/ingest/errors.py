"""What a load reports: the outcome of a batch, or every reason it was refused.

Row numbers follow the spreadsheet convention: the header is row 1, so the
first data record is row 2 and row N is line N of a CSV file without
embedded line breaks. A person can open the file and go straight to the
row named in a message. Errors about a whole column or file have no row.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Where the first data record sits: the header is row 1 (spreadsheet rows).
FIRST_DATA_ROW = 2


@dataclass(frozen=True)
class RowError:
    """One offending cell (or column, or file) and why it was refused."""

    row: int | None
    column: str | None
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        prefix = ", ".join(where) or "file"
        shown = "" if self.value is None else f" {self.value!r}"
        return f"{prefix}: {self.reason}{shown}"


class BatchRejected(Exception):
    """A batch failed validation (or conflicts with stored records); nothing was written."""

    def __init__(self, *, kind: str, source: str, errors: list[RowError]) -> None:
        self.kind = kind
        self.source = source
        self.errors = list(errors)
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [
            f"{self.kind} batch {self.source} rejected with {len(self.errors)} error(s); "
            "nothing was written (rows are spreadsheet rows: the header is row 1):"
        ]
        lines += [f"  {error}" for error in self.errors]
        return "\n".join(lines)


@dataclass(frozen=True)
class LoadReport:
    """What a successful load did: ``added + corrected + unchanged == rows_in``, except for an
    already-loaded file, which reports its rows but changes nothing (all three are 0)."""

    batch_id: int | None
    kind: str
    source: str
    rows_in: int
    added: int
    corrected: int
    unchanged: int
    already_loaded: bool = False

    def summary(self) -> str:
        """One line for a person: what changed and under which batch id."""
        if self.already_loaded:
            return f"{self.kind}: {self.source} was already loaded (batch {self.batch_id}); nothing added"
        return (
            f"{self.kind}: {self.rows_in} rows from {self.source}: {self.added} added, "
            f"{self.corrected} corrected, {self.unchanged} unchanged (batch {self.batch_id})"
        )

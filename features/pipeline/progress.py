"""A progress bar for long builds that costs nothing when switched off."""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class Steps:
    """Count steps of a build; shows a rich bar only when ``enabled``."""

    def __init__(self, *, total: int, enabled: bool, what: str) -> None:
        self.total, self.enabled, self.what = total, enabled, what
        self._progress: Progress | None = None
        self._task = None

    def __enter__(self) -> "Steps":
        if self.enabled:
            self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), transient=False)
            self._progress.start()
            self._task = self._progress.add_task(self.what, total=self.total)
        return self

    def advance(self, note: str = "") -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, description=f"{self.what}: {note}" if note else self.what)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=self.total)
            self._progress.stop()

"""What the terminal shows: one progress line (on stderr, while something is under way) and
the conversation itself (on stdout, one line per utterance, ready to pipe or save)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.status import Status

MAX_PROGRESS_CHARS = 160


class Screen:
    def __init__(self) -> None:
        # soft_wrap: a line is never cut into two, so a URL in it can be copied (or grepped).
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self._status: Status | None = None

    def progress(self, text: str) -> None:
        """Show `text` as the progress line (a spinner in a terminal, nothing in a pipe)."""
        line = escape(text[:MAX_PROGRESS_CHARS])
        if self._status is None:
            self._status = self.err.status(line)
            self._status.start()
        else:
            self._status.update(line)

    def idle(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None

    def line(self, speaker: str, text: str) -> None:
        """One line of the conversation on stdout ("you: …", "Kagura: …")."""
        print(f"{speaker}: {text}", flush=True)

    def note(self, text: str) -> None:
        """Something the user should know, on stderr."""
        self.err.print(escape(text))

    def problem(self, text: str) -> None:
        self.err.print(f"[bold red]Error[/]: {escape(text)}")

"""The one exception the pipeline raises."""

from __future__ import annotations


class PipelineError(Exception):
    """Report why a file could not be processed, in words a teacher can read."""

    def __init__(self, reason: str, *, transient: bool = False, detail: str = "") -> None:
        """Keep the one-line reason, whether a retry may help, and a technical detail for logs."""
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.detail = detail

    def __repr__(self) -> str:
        """Show the reason and the retry flag."""
        return f"PipelineError({self.reason!r}, transient={self.transient})"


CANCELLED = "Processing was cancelled."

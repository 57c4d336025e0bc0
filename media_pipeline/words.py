"""Phrase numbers for teacher-facing messages."""

from __future__ import annotations


def span(seconds: float) -> str:
    """Return '3-hour', '90-minute' or '2-second' for a limit given in seconds."""
    if seconds >= 3600 and float(seconds / 3600).is_integer():
        return f"{int(seconds // 3600)}-hour"
    if seconds >= 60 and float(seconds / 60).is_integer():
        return f"{int(seconds // 60)}-minute"
    return f"{seconds:g}-second"

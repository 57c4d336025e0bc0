"""Exports of a lesson's feedback as CSV and as a WebVTT metadata track, and the pieces every
export shares. Every export holds exactly what its reader may see (`service.all_annotations`): a
private note reaches nobody but its author. Exports are audited as downloads of the video.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime

from app.accounts.models import User
from app.core.policy import VideoAction
from app.feedback import service as feedback
from app.feedback.models import Annotation, AnnotationKind
from app.lessons import service as videos
from app.lessons.models import Video

# A moment has no length; in a WebVTT track it lasts this long so players show its cue.
MOMENT_MS = 1000


CSV_COLUMNS = (
    "id",
    "start",
    "end",
    "start_ms",
    "end_ms",
    "kind",
    "visibility",
    "author",
    "imported_author_name",
    "framework",
    "framework_version",
    "dimension",
    "level_score",
    "level",
    "body",
    "replies",
    "created_at",
)


# Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


KIND_LABELS = {
    AnnotationKind.STRENGTH: "Strength",
    AnnotationKind.SUGGESTION: "Suggestion",
    AnnotationKind.QUESTION: "Question",
    AnnotationKind.NOTE: "Note",
}


@dataclass(frozen=True)
class ExportFile:
    """A finished export: its download name, media type and text."""

    filename: str
    mimetype: str
    text: str


def clock(ms: int, *, millis: bool = True) -> str:
    """Return a time in the lesson as h:mm:ss.mmm (or h:mm:ss)."""
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, rest = divmod(rest, 1000)
    text = f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{text}.{rest:03d}" if millis else text


def when(a: Annotation) -> str:
    """Return where an annotation is in the lesson: h:mm:ss, or a range joined by an en dash."""
    start = clock(a.start_ms, millis=False)
    return start if a.end_ms is None else f"{start}\u2013{clock(a.end_ms, millis=False)}"


def imported_mark(imported_author_name: str | None) -> str | None:
    """Return the words marking imported feedback, with the writer the document named."""
    if imported_author_name is None:
        return None
    return f"Imported \u2014 originally by {imported_author_name}"


def _signed(author: str, imported_author_name: str | None) -> str:
    mark = imported_mark(imported_author_name)
    return author if mark is None else f"{author} ({mark})"


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].strip("-")


def export_filename(video: Video, extension: str) -> str:
    slug = _slug(video.title)
    return f"lesson-{video.id}{'-' + slug if slug else ''}-feedback.{extension}"


def exportable(user: User, video_id: int) -> tuple[Video, list[Annotation]]:
    video = videos.get_video(user, video_id, VideoAction.DOWNLOAD)
    return video, feedback.all_annotations(user, video)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(value: object) -> object:
    """Return a cell a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_text(items: list[Annotation]) -> str:
    """Return the annotations as CSV, one row each, with a BOM so Excel reads UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for a in items:
        replies = "\n".join(
            f"{_signed(r.author.name, r.imported_author_name)}: {r.body}" for r in a.replies
        )
        row: list[object] = [
            a.id,
            clock(a.start_ms),
            clock(a.end_ms) if a.end_ms is not None else "",
            a.start_ms,
            a.end_ms if a.end_ms is not None else "",
            a.kind.value,
            a.visibility.value,
            a.author.name,
            a.imported_author_name or "",
            a.framework_name or "",
            a.framework_version if a.framework_version is not None else "",
            a.dimension_name or "",
            a.level_score if a.level_score is not None else "",
            a.level_label or "",
            a.body,
            replies,
            _iso(a.created_at),
        ]
        writer.writerow([_cell(v) for v in row])
    return "\ufeff" + out.getvalue()


def export_csv(user: User, video_id: int) -> ExportFile:
    """Return the feedback the user sees on a video as a spreadsheet, auditing the download."""
    video, items = exportable(user, video_id)
    export = ExportFile(export_filename(video, "csv"), "text/csv", csv_text(items))
    videos.record_download(user, video, "annotations.csv")
    return export


def _vtt_time(ms: int) -> str:
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, rest = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{rest:03d}"


def cue_payload(a: Annotation) -> str:
    """Return a cue's text: one line of JSON that can never end or split the cue."""
    text = json.dumps(
        {
            "id": a.id,
            "kind": a.kind.value,
            "dimension": a.dimension_name,
            "level_score": a.level_score,
            "level": a.level_label,
            "author": a.author.name,
            "imported_author_name": a.imported_author_name,
            "body": a.body,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )
    # json.dumps already escapes line breaks; escaping < > & (valid JSON escapes, and only
    # ever inside strings) rules out "-->" and keeps cue-text parsers from seeing markup.
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def vtt_text(items: list[Annotation]) -> str:
    """Return a WebVTT metadata track: one cue per annotation, its id as the cue identifier."""
    lines = [
        "WEBVTT",
        "",
        "NOTE Loupe feedback as a metadata track: each cue's text is one JSON object.",
        "",
    ]
    for a in items:  # in timeline order, as WebVTT requires
        end = a.end_ms if a.end_ms is not None else a.start_ms + MOMENT_MS
        lines += [str(a.id), f"{_vtt_time(a.start_ms)} --> {_vtt_time(end)}", cue_payload(a), ""]
    return "\n".join(lines)


def export_vtt(user: User, video_id: int) -> ExportFile:
    """Return the feedback the user sees as a WebVTT metadata track, auditing the download."""
    video, items = exportable(user, video_id)
    export = ExportFile(export_filename(video, "vtt"), "text/vtt", vtt_text(items))
    videos.record_download(user, video, "annotations.vtt")
    return export

"""Exports of a video's feedback: CSV, a lossless JSON document, a WebVTT metadata track, and
the printable debrief sheet (a summary to discuss or file, with thumbnails cropped from the
storyboard; not to be confused with the live debrief meetings of app/debriefs/service.py).

Every export holds exactly what its reader may see (`annotations.all_annotations`): a private
note reaches nobody but its author. Exports are audited as downloads of the video.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime

from markupsafe import Markup

from app.accounts.models import User
from app.core import richtext
from app.core.db import utcnow
from app.core.policy import VideoAction
from app.core.storage import storage
from app.feedback import service as feedback
from app.feedback.models import Annotation, AnnotationKind, Visibility
from app.feedback.service import (
    AnnotationsDocument,
    DimensionSummary,
    DocumentVideo,
    document_annotation,
)
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


# --- shared pieces ---------------------------------------------------------------------------


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


def _filename(video: Video, extension: str) -> str:
    slug = _slug(video.title)
    return f"lesson-{video.id}{'-' + slug if slug else ''}-feedback.{extension}"


def _exportable(user: User, video_id: int) -> tuple[Video, list[Annotation]]:
    video = videos.get_video(user, video_id, VideoAction.DOWNLOAD)
    return video, feedback.all_annotations(user, video)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- CSV -------------------------------------------------------------------------------------


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
    video, items = _exportable(user, video_id)
    export = ExportFile(_filename(video, "csv"), "text/csv", csv_text(items))
    videos.record_download(user, video, "annotations.csv")
    return export


# --- JSON ------------------------------------------------------------------------------------


def document(video: Video, items: list[Annotation]) -> AnnotationsDocument:
    """Return the annotations as the lossless, versioned document an import reads back."""
    return AnnotationsDocument(
        video=DocumentVideo(id=video.id, title=video.title, duration_s=video.duration_s),
        exported_at=utcnow(),
        annotations=[document_annotation(a) for a in items],
    )


def export_document(user: User, video_id: int) -> tuple[AnnotationsDocument, str]:
    """Return the feedback the user sees as a JSON document and its file name, audited."""
    video, items = _exportable(user, video_id)
    doc, name = document(video, items), _filename(video, "json")
    videos.record_download(user, video, "annotations.json")
    return doc, name


# --- WebVTT ----------------------------------------------------------------------------------


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
    video, items = _exportable(user, video_id)
    export = ExportFile(_filename(video, "vtt"), "text/vtt", vtt_text(items))
    videos.record_download(user, video, "annotations.vtt")
    return export


# --- storyboard thumbnails -------------------------------------------------------------------


@dataclass(frozen=True)
class Thumbnail:
    """One tile of a storyboard sprite: the sprite's URL and the tile's rectangle in pixels."""

    sprite: str
    x: int
    y: int
    w: int
    h: int


_CUE_TIME = re.compile(r"^(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})$")
# Our pipeline writes "storyboard/sprite-0001.jpg#xywh=0,0,160,90": a plain relative path.
_TILE = re.compile(r"^([A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*\.jpg)#xywh=(\d+),(\d+),(\d+),(\d+)$")


def _cue_ms(text: str) -> int | None:
    match = _CUE_TIME.match(text.strip())
    if match is None:
        return None
    hours, minutes, seconds, millis = (int(g or 0) for g in match.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis


class Storyboard:
    """The thumbnails of a video's storyboard.vtt, found by time."""

    def __init__(self, starts: list[int], tiles: list[Thumbnail]) -> None:
        self.starts = starts
        self.tiles = tiles

    @classmethod
    def parse(cls, text: str, base_url: str) -> Storyboard:
        """Read storyboard cues (time range, then `sprite.jpg#xywh=x,y,w,h`); skip others."""
        cues: list[tuple[int, Thumbnail]] = []
        lines = text.replace("\r\n", "\n").split("\n")
        for i, line in enumerate(lines[:-1]):
            start, arrow, _rest = line.partition("-->")
            if not arrow:
                continue
            at = _cue_ms(start)
            tile = _TILE.match(lines[i + 1].strip())
            if at is None or tile is None:
                continue
            x, y, w, h = (int(tile.group(n)) for n in range(2, 6))
            if w > 0 and h > 0:
                cues.append((at, Thumbnail(base_url + tile.group(1), x, y, w, h)))
        cues.sort(key=lambda cue: cue[0])
        return cls([at for at, _ in cues], [tile for _, tile in cues])

    def at(self, ms: int) -> Thumbnail | None:
        """Return the thumbnail showing the moment (the last one before it)."""
        if not self.tiles:
            return None
        index = bisect.bisect_right(self.starts, ms) - 1
        return self.tiles[max(0, index)]


def storyboard_for(video: Video) -> Storyboard | None:
    """Return the video's published storyboard, or None when it has none."""
    file = storage().resolve(video.id, "storyboard.vtt")
    if file is None:
        return None
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    board = Storyboard.parse(text, f"/media/{video.id}/")
    prefix = len(f"/media/{video.id}/")
    # Only sprites that are really there: a half-published folder shows no broken images.
    present = {
        t.sprite
        for t in set(board.tiles)
        if storage().resolve(video.id, t.sprite[prefix:]) is not None
    }
    if not board.tiles or any(t.sprite not in present for t in board.tiles):
        return None
    return board


# --- the printable debrief -------------------------------------------------------------------


@dataclass(frozen=True)
class SheetReply:
    """One reply as the debrief prints it."""

    author: str
    imported_mark: str | None
    body_html: Markup
    created_at: datetime


@dataclass(frozen=True)
class SheetItem:
    """One annotation as the debrief prints it."""

    id: int
    when: str
    start: str
    start_ms: int
    kind: AnnotationKind
    kind_label: str
    private: bool
    level_score: int | None
    level_label: str | None
    author: str
    imported_mark: str | None
    body_html: Markup
    replies: list[SheetReply]
    thumbnail: Thumbnail | None


@dataclass(frozen=True)
class SheetGroup:
    """The annotations of one dimension (or the untagged ones), in time order."""

    name: str
    colour: str | None
    frameworks: list[str]
    summary: DimensionSummary | None
    items: list[SheetItem]


@dataclass(frozen=True)
class DebriefSheet:
    """Everything the printable debrief shows: header, summary, and grouped feedback."""

    video: Video
    teacher: str
    lesson_date: date
    recorded: bool
    coaches: list[str]
    total: int
    kinds: list[tuple[str, int]]
    summary: list[DimensionSummary]
    groups: list[SheetGroup]
    has_storyboard: bool
    generated_at: datetime


def _item(a: Annotation, board: Storyboard | None) -> SheetItem:
    return SheetItem(
        id=a.id,
        when=when(a),
        start=clock(a.start_ms, millis=False),
        start_ms=a.start_ms,
        kind=a.kind,
        kind_label=KIND_LABELS[a.kind],
        private=a.visibility == Visibility.PRIVATE,
        level_score=a.level_score,
        level_label=a.level_label,
        author=a.author.name,
        imported_mark=imported_mark(a.imported_author_name),
        body_html=richtext.render(a.body),
        replies=[
            SheetReply(
                r.author.name,
                imported_mark(r.imported_author_name),
                richtext.render(r.body),
                r.created_at,
            )
            for r in a.replies
        ],
        thumbnail=board.at(a.start_ms) if board else None,
    )


def _framework_label(a: Annotation) -> str | None:
    if a.framework_name is None:
        return None
    return a.framework_name + (f" v{a.framework_version}" if a.framework_version else "")


def sheet_of(video: Video, items: list[Annotation], board: Storyboard | None) -> DebriefSheet:
    """Arrange the annotations a person sees into the debrief's header, summary and groups."""
    summary = feedback.summary(items)
    by_name = {s.name: s for s in summary}
    grouped: dict[str, list[Annotation]] = {s.name: [] for s in summary}
    untagged: list[Annotation] = []
    for a in items:
        (grouped[a.dimension_name] if a.dimension_name is not None else untagged).append(a)
    groups = [
        SheetGroup(
            name=name,
            colour=by_name[name].colour,
            frameworks=sorted({f for f in map(_framework_label, group) if f}),
            summary=by_name[name],
            items=[_item(a, board) for a in group],
        )
        for name, group in grouped.items()
    ]
    if untagged:
        groups.append(
            SheetGroup("Other feedback", None, [], None, [_item(a, board) for a in untagged])
        )
    # Who gave feedback: every author but the teacher reflecting on their own lesson. Names
    # in imported documents are not people of this Loupe: they appear only in their marks.
    writers: dict[str, None] = {}
    for a in items:
        for author_id, person in (
            (a.author_id, a.author),
            *((r.author_id, r.author) for r in a.replies),
        ):
            if author_id != video.owner_id:
                writers.setdefault(person.name)
    counts = {kind: sum(1 for a in items if a.kind == kind) for kind in KIND_LABELS}
    return DebriefSheet(
        video=video,
        teacher=video.owner.name,
        lesson_date=video.recorded_at or video.created_at.date(),
        recorded=video.recorded_at is not None,
        coaches=list(writers),
        total=len(items),
        kinds=[(KIND_LABELS[k], n) for k, n in counts.items() if n],
        summary=summary,
        groups=groups,
        has_storyboard=board is not None,
        generated_at=utcnow(),
    )


def debrief_sheet(user: User, video_id: int) -> DebriefSheet:
    """Return the printable debrief of the feedback the user sees, auditing it as a download."""
    video, items = _exportable(user, video_id)
    page = sheet_of(video, items, storyboard_for(video))
    videos.record_download(user, video, "debrief")
    return page

"""The printable debrief sheet of a lesson's feedback: a summary to discuss or file, grouped by
rubric dimension, with thumbnails cropped from the storyboard (not to be confused with the live
debrief meetings of app/debriefs/). Holds what its reader may see, like every export.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, datetime

from markupsafe import Markup

from app.accounts.models import User
from app.core import richtext
from app.core.db import utcnow
from app.core.storage import storage
from app.feedback.exports import KIND_LABELS, clock, exportable, imported_mark, when
from app.feedback.models import Annotation, AnnotationKind, Visibility
from app.lessons import service as videos
from app.lessons.models import Video


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
    summary = dimension_summary(items)
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
    video, items = exportable(user, video_id)
    page = sheet_of(video, items, storyboard_for(video))
    videos.record_download(user, video, "debrief")
    return page


@dataclass(frozen=True)
class DimensionSummary:
    """How often one dimension was tagged on a video and the average level given."""

    name: str
    colour: str
    count: int
    average_score: float | None


def dimension_summary(items: list[Annotation]) -> list[DimensionSummary]:
    """Summarise tagged annotations per dimension, in order of first appearance."""
    seen: dict[str, list[Annotation]] = {}
    for a in items:
        if a.dimension_name is not None:
            seen.setdefault(a.dimension_name, []).append(a)
    out = []
    for name, group in seen.items():
        scores = [a.level_score for a in group if a.level_score is not None]
        out.append(
            DimensionSummary(
                name=name,
                colour=group[0].dimension_colour or "#64748b",
                count=len(group),
                average_score=round(sum(scores) / len(scores), 2) if scores else None,
            )
        )
    return out

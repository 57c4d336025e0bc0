"""Annotations: timestamped, framework-tagged feedback on a lesson, with threaded replies.

Rules: people the video is shared with for comment (and its owner) annotate; viewers only
read; a private note is its author's alone, everywhere (API, Socket.IO, exports, pages).
Every change bumps the video's change counter under its row lock, so the counter orders
changes as they commit and a client that missed events catches up with `since`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from app.accounts.models import CoachAssignment, User
from app.core import audit, policy, richtext
from app.core.db import utcnow
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.core.numbers import Count, Id
from app.core.policy import VideoAction
from app.core.realtime import publish, user_room
from app.feedback.models import Annotation, AnnotationKind, AnnotationReply, Visibility
from app.frameworks.models import Framework, FrameworkStatus, RubricDimension, RubricLevel
from app.lessons.models import Video
from app.lessons.service import get_video

MAX_MS = 24 * 3600 * 1000
PAGE = 500
MAX_PAGE = 1000


class AnnotationIn(BaseModel):
    """A new annotation."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    start_ms: int = Field(ge=0, le=MAX_MS, description="Where it starts, in milliseconds")
    end_ms: int | None = Field(
        None, ge=0, le=MAX_MS, description="Where a range ends; empty for a moment"
    )
    body: str = Field(max_length=richtext.MAX_BODY * 2)
    dimension_id: Id | None = Field(None, description="A dimension of a published framework")
    level_id: Id | None = Field(None, description="A level of that dimension")
    kind: AnnotationKind = AnnotationKind.NOTE
    visibility: Visibility = Visibility.SHARED


class AnnotationPatch(BaseModel):
    """A change to an annotation: only the fields sent change (null clears the tag or end)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    start_ms: int | None = Field(None, ge=0, le=MAX_MS)
    end_ms: int | None = Field(None, ge=0, le=MAX_MS)
    body: str | None = Field(None, max_length=richtext.MAX_BODY * 2)
    dimension_id: Id | None = None
    level_id: Id | None = None
    kind: AnnotationKind | None = None
    visibility: Visibility | None = None


class ReplyIn(BaseModel):
    """A reply in an annotation's thread."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    body: str = Field(max_length=richtext.MAX_BODY * 2)


class PersonRef(BaseModel):
    id: int
    name: str


class TagOut(BaseModel):
    """The framework dimension and level as they were when the feedback was tagged."""

    framework_id: int | None
    framework_name: str | None
    framework_version: int | None
    dimension_id: int | None
    dimension_name: str
    colour: str
    level_id: int | None
    level_score: int | None
    level_label: str | None


class ReplyOut(BaseModel):
    id: int
    author: PersonRef
    imported_author_name: str | None = Field(
        description="Set on imported feedback: its writer as the document named them, "
        "to show only as text in an 'imported' mark (the author is the importer)"
    )
    body: str
    body_html: str
    created_at: datetime
    edited_at: datetime | None


class AnnotationOut(BaseModel):
    id: int
    video_id: int
    seq: int = Field(description="The video's change counter when this thread last changed")
    start_ms: int
    end_ms: int | None
    body: str
    body_html: str = Field(description="The body's light formatting as safe HTML")
    kind: AnnotationKind
    visibility: Visibility
    author: PersonRef
    imported_author_name: str | None = Field(
        description="Set on imported feedback: its writer as the document named them, "
        "to show only as text in an 'imported' mark (the author is the importer)"
    )
    tag: TagOut | None
    replies: list[ReplyOut]
    created_at: datetime
    edited_at: datetime | None

    @classmethod
    def of(cls, a: Annotation) -> AnnotationOut:
        return cls(
            id=a.id,
            video_id=a.video_id,
            seq=a.seq,
            start_ms=a.start_ms,
            end_ms=a.end_ms,
            body=a.body,
            body_html=str(richtext.render(a.body)),
            kind=a.kind,
            visibility=a.visibility,
            author=_person(a.author),
            imported_author_name=a.imported_author_name,
            tag=_tag(a),
            replies=[
                ReplyOut(
                    id=r.id,
                    author=_person(r.author),
                    imported_author_name=r.imported_author_name,
                    body=r.body,
                    body_html=str(richtext.render(r.body)),
                    created_at=r.created_at,
                    edited_at=r.edited_at,
                )
                for r in a.replies
            ],
            created_at=a.created_at,
            edited_at=a.edited_at,
        )


class AnnotationPage(BaseModel):
    """Annotations changed after a cursor, in the order they changed."""

    annotations: list[AnnotationOut]
    removed: list[int] = Field(
        description="Annotations you saw before that are gone or no longer visible to you"
    )
    cursor: int = Field(description="Send as `since` to get what changes next")
    more: bool = Field(description="More changes wait: ask again with the cursor")


def _person(user: User) -> PersonRef:
    return PersonRef(id=user.id, name=user.name)


def _tag(a: Annotation) -> TagOut | None:
    if a.dimension_name is None:
        return None
    return TagOut(
        framework_id=a.framework_id,
        framework_name=a.framework_name,
        framework_version=a.framework_version,
        dimension_id=a.dimension_id,
        dimension_name=a.dimension_name,
        colour=a.dimension_colour or "#64748b",
        level_id=a.level_id,
        level_score=a.level_score,
        level_label=a.level_label,
    )


# --- who sees what ---------------------------------------------------------------------------


def visible_to(annotation: Annotation, user: User) -> bool:
    """Answer whether the user, who may view the video, sees this annotation."""
    if annotation.deleted_at is not None:
        return False
    return annotation.visibility == Visibility.SHARED or annotation.author_id == user.id


def _visible_clause(user: User) -> Any:
    return or_(Annotation.visibility == Visibility.SHARED, Annotation.author_id == user.id)


# --- reading ---------------------------------------------------------------------------------


def list_annotations(
    user: User, video_id: int, *, since: int = 0, limit: int = PAGE
) -> AnnotationPage:
    """Return the annotations of a video the user sees, changed after `since`, oldest change first.

    With since=0 this is the whole list; later calls return only what changed, plus the ids
    of annotations deleted or made private since.
    """
    if since < 0:
        raise Invalid("since must be 0 or more.", field="since")
    if not 1 <= limit <= MAX_PAGE:
        raise Invalid(f"limit must be between 1 and {MAX_PAGE}.", field="limit")
    video = get_video(user, video_id)
    # Read the counter first: anything committed later is either in this page or the next.
    cursor = db.session.scalar(select(Video.annotation_seq).where(Video.id == video.id)) or 0
    rows = list(
        db.session.scalars(
            select(Annotation)
            .where(
                Annotation.video_id == video.id,
                Annotation.seq > since,
                or_(
                    and_(Annotation.deleted_at.is_(None), _visible_clause(user)),
                    Annotation.ever_shared.is_(True),
                    Annotation.author_id == user.id,
                ),
            )
            .options(
                selectinload(Annotation.author),
                selectinload(Annotation.replies).selectinload(AnnotationReply.author),
            )
            .order_by(Annotation.seq)
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if more:
        cursor = rows[-1].seq
    shown, removed = [], []
    for a in rows:
        if visible_to(a, user):
            shown.append(AnnotationOut.of(a))
        elif since > 0:
            removed.append(a.id)
    return AnnotationPage(annotations=shown, removed=removed, cursor=cursor, more=more)


def all_annotations(user: User, video: Video) -> list[Annotation]:
    """Return every annotation of the video the user sees, in timeline order (for exports)."""
    return list(
        db.session.scalars(
            select(Annotation)
            .where(
                Annotation.video_id == video.id,
                Annotation.deleted_at.is_(None),
                _visible_clause(user),
            )
            .options(
                selectinload(Annotation.author),
                selectinload(Annotation.replies).selectinload(AnnotationReply.author),
            )
            .order_by(Annotation.start_ms, Annotation.id)
        )
    )


def _get(user: User, annotation_id: int) -> tuple[Annotation, Video]:
    annotation = db.session.get(Annotation, annotation_id)
    if annotation is None or annotation.deleted_at is not None:
        raise NotFound("No such annotation.")
    try:
        video = get_video(user, annotation.video_id)
    except NotFound:
        raise NotFound("No such annotation.") from None
    if not visible_to(annotation, user):
        raise NotFound("No such annotation.")
    return annotation, video


def get_annotation(user: User, annotation_id: int) -> Annotation:
    """Return one annotation the user sees."""
    return _get(user, annotation_id)[0]


# --- frameworks ------------------------------------------------------------------------------


def current_version(framework: Framework) -> Framework | None:
    """Return the published version of the framework's family, if there is one."""
    return db.session.scalars(
        select(Framework).where(
            Framework.family == framework.family, Framework.status == FrameworkStatus.PUBLISHED
        )
    ).first()


def framework_for(video: Video, viewer: User) -> Framework | None:
    """Return the framework a video's feedback uses: the video's, the viewer's caseload's,
    or the district's built-in instructional framework."""
    candidates: list[int | None] = [video.framework_id]
    assignment = db.session.scalars(
        select(CoachAssignment).where(
            CoachAssignment.teacher_id == video.owner_id,
            CoachAssignment.coach_id == viewer.id,
            CoachAssignment.framework_id.is_not(None),
        )
    ).first()
    if assignment is not None:
        candidates.append(assignment.framework_id)
    for framework_id in candidates:
        if framework_id is None:
            continue
        named = db.session.get(Framework, framework_id)
        if named is not None and named.organization_id == video.organization_id:
            current = current_version(named)
            if current is not None:
                return current
    return db.session.scalars(
        select(Framework)
        .where(
            Framework.organization_id == video.organization_id,
            Framework.status == FrameworkStatus.PUBLISHED,
        )
        # The instructional framework first: "Glow and Grow" is a lighter choice one makes.
        .order_by(
            func.coalesce(Framework.builtin, "") != "loupe-five",
            Framework.builtin.is_(None),
            Framework.id,
        )
    ).first()


def _apply_tag(
    annotation: Annotation, video: Video, dimension_id: int | None, level_id: int | None
) -> None:
    if dimension_id is None:
        if level_id is not None:
            raise Invalid("Pick a dimension for the level.", field="dimension_id")
        annotation.framework_id = annotation.dimension_id = annotation.level_id = None
        annotation.framework_name = annotation.dimension_name = annotation.dimension_colour = None
        annotation.framework_version = annotation.level_score = None
        annotation.level_label = None
        return
    unchanged = dimension_id == annotation.dimension_id and annotation.dimension_name is not None
    dimension = db.session.get(RubricDimension, dimension_id)
    if dimension is None or dimension.framework.organization_id != video.organization_id:
        raise Invalid("No such dimension in your district's frameworks.", field="dimension_id")
    # New tags use a published framework; a tag already made with an older version stays.
    if dimension.framework.status != FrameworkStatus.PUBLISHED and not unchanged:
        raise Invalid(
            "That framework version is not published; use its current version.",
            field="dimension_id",
        )
    level: RubricLevel | None = None
    if level_id is not None:
        level = db.session.get(RubricLevel, level_id)
        if level is None or level.dimension_id != dimension.id:
            raise Invalid("That level is not one of the dimension's levels.", field="level_id")
    framework = dimension.framework
    annotation.framework_id = framework.id
    annotation.framework_name = framework.name
    annotation.framework_version = framework.version
    annotation.dimension_id = dimension.id
    annotation.dimension_name = dimension.name
    annotation.dimension_colour = dimension.colour
    annotation.level_id = level.id if level else None
    annotation.level_score = level.score if level else None
    annotation.level_label = level.label if level else None


# --- writing ---------------------------------------------------------------------------------


def _check_times(video: Video, start_ms: int, end_ms: int | None) -> None:
    if end_ms is not None and end_ms <= start_ms:
        raise Invalid("A range must end after it starts.", field="end_ms")
    if video.duration_s:
        # A little slack: players report durations a frame or two longer than the probe.
        limit = int(video.duration_s * 1000) + 1000
        if start_ms > limit:
            raise Invalid("The time is past the end of the lesson.", field="start_ms")
        if end_ms is not None and end_ms > limit:
            raise Invalid("The range ends past the end of the lesson.", field="end_ms")


def _next_seq(video_id: int) -> int:
    """Take the video's next change number; the row lock holds until commit, ordering writers."""
    return int(
        db.session.execute(
            update(Video)
            .where(Video.id == video_id)
            .values(annotation_seq=Video.annotation_seq + 1, updated_at=Video.updated_at)
            .returning(Video.annotation_seq)
        ).scalar_one()
    )


def _writable(user: User, video_id: int) -> Video:
    return get_video(user, video_id, VideoAction.COMMENT)


def create_annotation(user: User, video_id: int, data: AnnotationIn) -> Annotation:
    """Add an annotation to a video the user may comment on."""
    video = _writable(user, video_id)
    _check_times(video, data.start_ms, data.end_ms)
    seq = _next_seq(video.id)
    annotation = Annotation(
        video_id=video.id,
        author_id=user.id,
        start_ms=data.start_ms,
        end_ms=data.end_ms,
        body=richtext.clean(data.body),
        kind=data.kind,
        visibility=data.visibility,
        ever_shared=data.visibility == Visibility.SHARED,
        created_at=utcnow(),
        seq=seq,
    )
    _apply_tag(annotation, video, data.dimension_id, data.level_id)
    db.session.add(annotation)
    db.session.commit()
    _announce(video, annotation, was_visible_to_all=False)
    return annotation


def _own(user: User, annotation_id: int) -> tuple[Annotation, Video]:
    annotation, video = _get(user, annotation_id)
    if annotation.author_id != user.id:
        raise Forbidden("Only its author can change an annotation.")
    if not policy.may_video(user, VideoAction.COMMENT, video):
        raise Forbidden("You may no longer comment on this video.")
    return annotation, video


def update_annotation(user: User, annotation_id: int, data: AnnotationPatch) -> Annotation:
    """Change the author's own annotation; only the fields sent change."""
    annotation, video = _own(user, annotation_id)
    annotation.seq = _next_seq(video.id)
    given = data.model_fields_set
    was_shared = annotation.visibility == Visibility.SHARED
    start = data.start_ms if "start_ms" in given and data.start_ms is not None else None
    if "start_ms" in given and data.start_ms is None:
        raise Invalid("start_ms cannot be empty.", field="start_ms")
    new_start = start if start is not None else annotation.start_ms
    new_end = data.end_ms if "end_ms" in given else annotation.end_ms
    _check_times(video, new_start, new_end)
    annotation.start_ms, annotation.end_ms = new_start, new_end
    if "body" in given:
        annotation.body = richtext.clean(data.body)
    for name in ("kind", "visibility"):
        if name in given:
            value = getattr(data, name)
            if value is None:
                raise Invalid(f"{name} cannot be empty.", field=name)
            setattr(annotation, name, value)
    if "dimension_id" in given or "level_id" in given:
        dimension_id = data.dimension_id if "dimension_id" in given else annotation.dimension_id
        level_id = data.level_id if "level_id" in given else None
        _apply_tag(annotation, video, dimension_id, level_id)
    if annotation.visibility == Visibility.SHARED:
        annotation.ever_shared = True
    annotation.edited_at = utcnow()
    db.session.commit()
    _announce(video, annotation, was_visible_to_all=was_shared)
    return annotation


def delete_annotation(user: User, annotation_id: int) -> None:
    """Delete the author's own annotation with its thread, leaving an empty tombstone."""
    annotation, video = _own(user, annotation_id)
    annotation.seq = _next_seq(video.id)
    was_shared = annotation.visibility == Visibility.SHARED
    annotation.deleted_at = utcnow()
    annotation.body = ""
    annotation.replies = []
    audit.record(
        "annotation.deleted", actor=user, object_type="annotation", object_id=annotation.id
    )
    db.session.commit()
    _announce(video, annotation, was_visible_to_all=was_shared)


def add_reply(user: User, annotation_id: int, data: ReplyIn) -> Annotation:
    """Reply in the thread of an annotation the user sees, on a video they may comment on."""
    annotation, video = _get(user, annotation_id)
    if not policy.may_video(user, VideoAction.COMMENT, video):
        raise Forbidden("You may watch this lesson but not reply.")
    body = richtext.clean(data.body)
    annotation.seq = _next_seq(video.id)
    annotation.replies.append(AnnotationReply(author_id=user.id, body=body, created_at=utcnow()))
    db.session.commit()
    _announce(video, annotation, was_visible_to_all=annotation.visibility == Visibility.SHARED)
    return annotation


def _own_reply(
    user: User, annotation_id: int, reply_id: int
) -> tuple[Annotation, Video, AnnotationReply]:
    annotation, video = _get(user, annotation_id)
    reply = next((r for r in annotation.replies if r.id == reply_id), None)
    if reply is None:
        raise NotFound("No such reply.")
    if reply.author_id != user.id:
        raise Forbidden("Only its author can change a reply.")
    if not policy.may_video(user, VideoAction.COMMENT, video):
        raise Forbidden("You may no longer comment on this video.")
    return annotation, video, reply


def update_reply(user: User, annotation_id: int, reply_id: int, data: ReplyIn) -> Annotation:
    """Change the author's own reply."""
    annotation, video, reply = _own_reply(user, annotation_id, reply_id)
    body = richtext.clean(data.body)
    annotation.seq = _next_seq(video.id)
    reply.body = body
    reply.edited_at = utcnow()
    db.session.commit()
    _announce(video, annotation, was_visible_to_all=annotation.visibility == Visibility.SHARED)
    return annotation


def delete_reply(user: User, annotation_id: int, reply_id: int) -> Annotation:
    """Delete the author's own reply."""
    annotation, video, reply = _own_reply(user, annotation_id, reply_id)
    annotation.seq = _next_seq(video.id)
    annotation.replies.remove(reply)
    db.session.commit()
    _announce(video, annotation, was_visible_to_all=annotation.visibility == Visibility.SHARED)
    return annotation


# --- live delivery ---------------------------------------------------------------------------


def _announce(video: Video, annotation: Annotation, *, was_visible_to_all: bool) -> None:
    """Tell everyone who may see the change, each through their own room.

    Sending to people (not to the video's room) re-checks access on every change: a revoked
    share stops receiving at once, and a private note only ever travels to its author.
    """
    people = policy.video_audience(video)
    others = [uid for uid in people if uid != annotation.author_id]
    gone = {"video_id": video.id, "id": annotation.id, "seq": annotation.seq}
    if annotation.deleted_at is not None:
        targets = people if was_visible_to_all else [annotation.author_id]
        if targets:
            publish("annotation.removed", gone, room=[user_room(uid) for uid in targets])
        return
    changed = {
        "video_id": video.id,
        "annotation": AnnotationOut.of(annotation).model_dump(mode="json"),
    }
    if annotation.visibility == Visibility.SHARED:
        publish("annotation.changed", changed, room=[user_room(uid) for uid in people])
        return
    if annotation.author_id in people:
        publish("annotation.changed", changed, room=user_room(annotation.author_id))
    if was_visible_to_all and others:
        publish("annotation.removed", gone, room=[user_room(uid) for uid in others])


@dataclass(frozen=True)
class DimensionSummary:
    """How often one dimension was tagged on a video and the average level given."""

    name: str
    colour: str
    count: int
    average_score: float | None


def summary(items: list[Annotation]) -> list[DimensionSummary]:
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


# --- the portable document: its format and its import -----------------------------------------
# The export side (CSV, JSON, WebVTT, debrief) lives in app/feedback/documents.py; the
# document's models live here because importing is a write and writes belong to this module.
# Imported here, not at the top, so that this section stays one self-contained block.
from typing import Literal  # noqa: E402

from pydantic import AwareDatetime  # noqa: E402

DOCUMENT_FORMAT: Literal["loupe.annotations"] = "loupe.annotations"
DOCUMENT_VERSION: Literal[1] = 1
MAX_IMPORT = 2000
MAX_IMPORT_REPLIES = 200


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DocumentPerson(_Strict):
    """Who wrote a piece of feedback, as the exporting Loupe knew them."""

    id: Id | None = Field(None, description="Their id where the document was exported")
    name: str = Field(min_length=1, max_length=200)


class DocumentTag(_Strict):
    """A tag's snapshot: the framework, dimension and level as they were when tagged."""

    framework_name: str | None = Field(None, max_length=200)
    framework_version: Count | None = Field(None, ge=1)
    dimension_name: str = Field(min_length=1, max_length=120)
    colour: str = Field(pattern=r"^#[0-9A-Fa-f]{6}$")
    level_score: Count | None = None
    level_label: str | None = Field(None, max_length=80)


class DocumentReply(_Strict):
    """One reply of a thread."""

    author: DocumentPerson
    imported_author_name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Set when it was imported before: who wrote it originally",
    )
    body: str = Field(max_length=richtext.MAX_BODY * 2)
    created_at: AwareDatetime
    edited_at: AwareDatetime | None = None


class DocumentAnnotation(_Strict):
    """One annotation with its thread, without ids of this Loupe."""

    start_ms: int = Field(ge=0, le=MAX_MS)
    end_ms: int | None = Field(None, ge=0, le=MAX_MS)
    body: str = Field(max_length=richtext.MAX_BODY * 2)
    kind: AnnotationKind
    visibility: Visibility
    author: DocumentPerson
    imported_author_name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Set when it was imported before: who wrote it originally",
    )
    created_at: AwareDatetime
    edited_at: AwareDatetime | None = None
    tag: DocumentTag | None = None
    replies: list[DocumentReply] = Field(default_factory=list, max_length=MAX_IMPORT_REPLIES)


class DocumentVideo(_Strict):
    """The lesson the document was exported from (for people; an import ignores it)."""

    id: Id | None = None
    title: str = Field(max_length=200)
    duration_s: float | None = None


class AnnotationsDocument(_Strict):
    """A video's feedback as a lossless, versioned JSON document (export and import)."""

    format: Literal["loupe.annotations"] = DOCUMENT_FORMAT
    version: Literal[1] = DOCUMENT_VERSION
    video: DocumentVideo | None = None
    exported_at: AwareDatetime | None = None
    annotations: list[DocumentAnnotation] = Field(max_length=MAX_IMPORT)


class ImportOut(BaseModel):
    """What an import created, in timeline order."""

    imported: int
    annotations: list[AnnotationOut]


def document_annotation(a: Annotation) -> DocumentAnnotation:
    """Return an annotation and its thread in the document's form."""
    tag = None
    if a.dimension_name is not None:
        tag = DocumentTag(
            framework_name=a.framework_name,
            framework_version=a.framework_version,
            dimension_name=a.dimension_name,
            colour=a.dimension_colour or "#64748b",
            level_score=a.level_score,
            level_label=a.level_label,
        )
    return DocumentAnnotation(
        start_ms=a.start_ms,
        end_ms=a.end_ms,
        body=a.body,
        kind=a.kind,
        visibility=a.visibility,
        author=DocumentPerson(id=a.author.id, name=a.author.name),
        imported_author_name=a.imported_author_name,
        created_at=a.created_at,
        edited_at=a.edited_at,
        tag=tag,
        replies=[
            DocumentReply(
                author=DocumentPerson(id=r.author.id, name=r.author.name),
                imported_author_name=r.imported_author_name,
                body=r.body,
                created_at=r.created_at,
                edited_at=r.edited_at,
            )
            for r in a.replies
        ],
    )


def _original_author(author: DocumentPerson, imported_author_name: str | None) -> str:
    # A document's names are whatever its writer typed: never an author here, only the text of
    # the mark. Feedback imported before keeps its first writer's name through a round trip.
    return imported_author_name or author.name


def _clean_at(raw: str, where: str) -> str:
    try:
        return richtext.clean(raw)
    except Invalid as exc:
        raise Invalid(f"{where}: {exc.message}", field=where) from None


class _TagLinker:
    """Find this district's dimension and level matching a tag snapshot, once per snapshot."""

    def __init__(self, organization_id: int) -> None:
        self.organization_id = organization_id
        self.found: dict[tuple[str, int, str], RubricDimension | None] = {}

    def dimension(self, tag: DocumentTag) -> RubricDimension | None:
        if tag.framework_name is None or tag.framework_version is None:
            return None
        key = (tag.framework_name, tag.framework_version, tag.dimension_name)
        if key not in self.found:
            self.found[key] = db.session.scalars(
                select(RubricDimension)
                .join(Framework, RubricDimension.framework_id == Framework.id)
                .where(
                    Framework.organization_id == self.organization_id,
                    Framework.name == tag.framework_name,
                    Framework.version == tag.framework_version,
                    RubricDimension.name == tag.dimension_name,
                )
                .order_by(Framework.id, RubricDimension.position)
            ).first()
        return self.found[key]

    def apply(self, annotation: Annotation, tag: DocumentTag | None) -> None:
        if tag is None:
            return
        # The snapshot is kept as written, linked or not: it is what the feedback said.
        annotation.framework_name = tag.framework_name
        annotation.framework_version = tag.framework_version
        annotation.dimension_name = tag.dimension_name
        annotation.dimension_colour = tag.colour.lower()
        annotation.level_score = tag.level_score
        annotation.level_label = tag.level_label
        dimension = self.dimension(tag)
        if dimension is None:
            return
        annotation.framework_id = dimension.framework_id
        annotation.dimension_id = dimension.id
        level = next(
            (
                lv
                for lv in dimension.levels
                if tag.level_score is not None
                and lv.score == tag.level_score
                and lv.label == tag.level_label
            ),
            None,
        )
        annotation.level_id = level.id if level else None


def _imported(
    user: User, video: Video, index: int, item: DocumentAnnotation, tags: _TagLinker
) -> Annotation:
    where = f"annotations.{index}"
    try:
        _check_times(video, item.start_ms, item.end_ms)
    except Invalid as exc:
        field = f"{where}.{exc.field}"
        raise Invalid(f"{field}: {exc.message}", field=field) from None
    annotation = Annotation(
        video_id=video.id,
        author_id=user.id,
        imported_author_name=_original_author(item.author, item.imported_author_name),
        start_ms=item.start_ms,
        end_ms=item.end_ms,
        body=_clean_at(item.body, f"{where}.body"),
        kind=item.kind,
        visibility=item.visibility,
        ever_shared=item.visibility == Visibility.SHARED,
        created_at=item.created_at,
        edited_at=item.edited_at,
    )
    tags.apply(annotation, item.tag)
    annotation.replies = [
        AnnotationReply(
            author_id=user.id,
            imported_author_name=_original_author(reply.author, reply.imported_author_name),
            body=_clean_at(reply.body, f"{where}.replies.{n}.body"),
            created_at=reply.created_at,
            edited_at=reply.edited_at,
        )
        for n, reply in enumerate(item.replies)
    ]
    return annotation


def _next_seqs(video_id: int, count: int) -> list[int]:
    """Take `count` consecutive change numbers in one statement, under the video's row lock."""
    last = int(
        db.session.execute(
            update(Video)
            .where(Video.id == video_id)
            .values(annotation_seq=Video.annotation_seq + count, updated_at=Video.updated_at)
            .returning(Video.annotation_seq)
        ).scalar_one()
    )
    return list(range(last - count + 1, last + 1))


def import_annotations(
    user: User, video_id: int, document: AnnotationsDocument
) -> list[Annotation]:
    """Create a document's annotations on a video the user may comment on: all or none.

    The importer becomes the author of everything, marked as imported with the name the
    document gives (shown only as text in that mark). Tags keep their snapshot and link to
    this district's matching dimension, if any.
    """
    video = _writable(user, video_id)
    tags = _TagLinker(video.organization_id)
    # Everything is checked before the first write, so a bad item leaves no trace.
    made = [_imported(user, video, i, item, tags) for i, item in enumerate(document.annotations)]
    if not made:
        return []
    try:
        # Each annotation gets its own change number, so catch-up pages never split a tie.
        for annotation, seq in zip(made, _next_seqs(video.id, len(made)), strict=True):
            annotation.seq = seq
        db.session.add_all(made)
        audit.record(
            "annotations.imported",
            actor=user,
            object_type="video",
            object_id=video.id,
            count=len(made),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    ids = [a.id for a in made]
    imported = list(
        db.session.scalars(
            select(Annotation)
            .where(Annotation.id.in_(ids))
            .options(
                selectinload(Annotation.author),
                selectinload(Annotation.replies).selectinload(AnnotationReply.author),
            )
            .order_by(Annotation.start_ms, Annotation.id)
        )
    )
    for annotation in sorted(imported, key=lambda a: a.seq):
        _announce(video, annotation, was_visible_to_all=False)
    return imported

"""Annotations: timestamped, framework-tagged feedback on a lesson (replies: replies.py;
exports and imports: exports.py, documents.py, sheet.py; shapes: schemas.py).

Rules: people the video is shared with for comment (and its owner) annotate; viewers only
read; a private note is its author's alone, everywhere (API, Socket.IO, exports, pages).
Every change bumps the video's change counter under its row lock, so the counter orders
changes as they commit and a client that missed events catches up with `since`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import selectinload

from app.accounts.models import CoachAssignment, User
from app.core import audit, policy, richtext
from app.core.db import utcnow
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.core.policy import VideoAction
from app.core.realtime import publish, user_room
from app.feedback.models import Annotation, AnnotationReply, Visibility
from app.feedback.schemas import (
    AnnotationIn,
    AnnotationOut,
    AnnotationPage,
    AnnotationPatch,
)
from app.frameworks.models import Framework, FrameworkStatus, RubricDimension, RubricLevel
from app.lessons.models import Video
from app.lessons.service import get_video

PAGE = 500
MAX_PAGE = 1000


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


def annotation_and_video(user: User, annotation_id: int) -> tuple[Annotation, Video]:
    """Return an annotation the user sees and its video."""
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
    return annotation_and_video(user, annotation_id)[0]


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


def check_times(video: Video, start_ms: int, end_ms: int | None) -> None:
    """Refuse times outside the lesson, or a range that ends before it starts."""
    if end_ms is not None and end_ms <= start_ms:
        raise Invalid("A range must end after it starts.", field="end_ms")
    if video.duration_s:
        # A little slack: players report durations a frame or two longer than the probe.
        limit = int(video.duration_s * 1000) + 1000
        if start_ms > limit:
            raise Invalid("The time is past the end of the lesson.", field="start_ms")
        if end_ms is not None and end_ms > limit:
            raise Invalid("The range ends past the end of the lesson.", field="end_ms")


def next_seq(video_id: int) -> int:
    """Take the video's next change number; the row lock holds until commit, ordering writers."""
    return int(
        db.session.execute(
            update(Video)
            .where(Video.id == video_id)
            .values(annotation_seq=Video.annotation_seq + 1, updated_at=Video.updated_at)
            .returning(Video.annotation_seq)
        ).scalar_one()
    )


def writable_video(user: User, video_id: int) -> Video:
    """Return a video the user may comment on."""
    return get_video(user, video_id, VideoAction.COMMENT)


def create_annotation(user: User, video_id: int, data: AnnotationIn) -> Annotation:
    """Add an annotation to a video the user may comment on."""
    video = writable_video(user, video_id)
    check_times(video, data.start_ms, data.end_ms)
    seq = next_seq(video.id)
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
    announce(video, annotation, was_visible_to_all=False)
    return annotation


def _own(user: User, annotation_id: int) -> tuple[Annotation, Video]:
    annotation, video = annotation_and_video(user, annotation_id)
    if annotation.author_id != user.id:
        raise Forbidden("Only its author can change an annotation.")
    if not policy.may_video(user, VideoAction.COMMENT, video):
        raise Forbidden("You may no longer comment on this video.")
    return annotation, video


def update_annotation(user: User, annotation_id: int, data: AnnotationPatch) -> Annotation:
    """Change the author's own annotation; only the fields sent change."""
    annotation, video = _own(user, annotation_id)
    annotation.seq = next_seq(video.id)
    given = data.model_fields_set
    was_shared = annotation.visibility == Visibility.SHARED
    start = data.start_ms if "start_ms" in given and data.start_ms is not None else None
    if "start_ms" in given and data.start_ms is None:
        raise Invalid("start_ms cannot be empty.", field="start_ms")
    new_start = start if start is not None else annotation.start_ms
    new_end = data.end_ms if "end_ms" in given else annotation.end_ms
    check_times(video, new_start, new_end)
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
    announce(video, annotation, was_visible_to_all=was_shared)
    return annotation


def delete_annotation(user: User, annotation_id: int) -> None:
    """Delete the author's own annotation with its thread, leaving an empty tombstone."""
    annotation, video = _own(user, annotation_id)
    annotation.seq = next_seq(video.id)
    was_shared = annotation.visibility == Visibility.SHARED
    annotation.deleted_at = utcnow()
    annotation.body = ""
    annotation.replies = []
    audit.record(
        "annotation.deleted", actor=user, object_type="annotation", object_id=annotation.id
    )
    db.session.commit()
    announce(video, annotation, was_visible_to_all=was_shared)


# --- live delivery ---------------------------------------------------------------------------


def announce(video: Video, annotation: Annotation, *, was_visible_to_all: bool) -> None:
    """Tell everyone who sees the annotation that it changed (and those who no longer do)."""
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

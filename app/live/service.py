"""Live lessons: start (WHIP) and end a stream, let permitted people watch (WHEP), and turn
the recording into the lesson video.

The lesson's Video exists from the first second, private to the teacher and shared for
comment with the coaches of the teacher's caseload (the teacher can invite anyone else with
the usual share dialog). Feedback given live is stored at the lesson time it was given, which
is the time of the recording, so it sits at the right moment once the video is processed.
"""

from __future__ import annotations

import contextlib
from typing import Any

from flask import current_app
from sqlalchemy import or_, select, update

from app.accounts.models import CoachAssignment, User
from app.core import audit, policy, queue
from app.core.access import closes_channels
from app.core.db import utcnow
from app.core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    Unavailable,
    from_status,
)
from app.core.extensions import db
from app.core.policy import VideoAction
from app.core.realtime import lesson_room, publish, user_room
from app.core.storage import storage
from app.lessons import service as videos
from app.lessons.models import SharePermission, Video, VideoStatus
from app.live.models import LiveStatus, LiveStream
from app.rtc import client as rtc_client
from app.rtc import folders

MAKE_LESSON_VIDEO = "loupe.live.make_lesson_video"  # the task of live/jobs.py
MAX_SDP = 64 * 1024
OPEN = (LiveStatus.LIVE, LiveStatus.INTERRUPTED)  # a stream that may still be (or come back) live


def _check_offer(sdp: str) -> str:
    if not sdp.startswith("v=0") or len(sdp) > MAX_SDP:
        raise Invalid("The body must be an SDP offer (application/sdp).", field="body")
    return sdp


def current_stream(owner: User) -> LiveStream | None:
    """Return the owner's stream that is live or interrupted (may resume), if any."""
    return db.session.scalars(
        select(LiveStream)
        .where(
            LiveStream.owner_id == owner.id,
            LiveStream.status.in_([LiveStatus.LIVE, LiveStatus.INTERRUPTED]),
        )
        .order_by(LiveStream.id.desc())
    ).first()


def _gateway(act: str, stream_id: int, **body: Any) -> dict[str, Any]:
    """Call the gateway about a live lesson; its errors become the domain's."""
    try:
        return rtc_client.live(act, stream_id, **body)
    except rtc_client.GatewayError as exc:
        raise from_status(exc.status, exc.message) from exc


def start(
    owner: User, sdp: str, *, title: str | None, subject: str | None, grade: str | None
) -> tuple[LiveStream, dict[str, Any]]:
    """Start a live lesson from a WHIP offer, or resume the owner's interrupted one."""
    if not policy.may_own_videos(owner):
        raise Forbidden("Only teachers and coaches stream lessons.")
    _check_offer(sdp)
    stream = current_stream(owner)
    if stream is not None:
        # The gateway decides: a publisher still connected means a second stream (409); a
        # dropped one within the grace period resumes; one the gateway forgot is over.
        try:
            answer = _gateway("whip", stream.id, sdp=sdp)
        except Conflict as exc:
            raise Conflict("This lesson is already being streamed.") from exc
        except NotFound:
            pass
        else:
            if not _move(stream.id, LiveStatus.LIVE):
                # Ended while this offer was on its way (from another window): stop what the
                # gateway just began for it; the lesson's recording is already being made.
                with contextlib.suppress(ServiceError):
                    _discard(stream.id, _gateway("whip-end", stream.id).get("manifest"))
                raise Conflict("This lesson has just ended.")
            return stream, answer
    video = videos.create_video(
        owner,
        title=title or f"Live lesson, {utcnow():%b %-d %Y %H:%M} UTC",
        subject=subject,
        grade=grade,
    )
    stream = LiveStream(organization_id=owner.organization_id, owner_id=owner.id, video_id=video.id)
    db.session.add(stream)
    db.session.flush()
    for assignment in db.session.scalars(
        select(CoachAssignment).where(CoachAssignment.teacher_id == owner.id)
    ):
        if assignment.coach.active:
            videos.share_video(owner, video.id, assignment.coach.email, SharePermission.COMMENT)
    audit.record("live.started", actor=owner, object_type="video", object_id=video.id)
    db.session.commit()
    try:
        answer = _gateway("whip", stream.id, sdp=sdp)
    except Exception:
        # Nothing was streamed: leave no empty lesson behind.
        db.session.delete(stream)
        db.session.delete(video)
        db.session.commit()
        raise
    for uid in policy.video_audience(video):
        publish(
            "live.started",
            {"video_id": video.id, "stream_id": stream.id, "title": video.title},
            room=user_room(uid),
        )
    return stream, answer


def by_key(owner: User, resource_key: str) -> LiveStream:
    """Return the owner's stream by its WHIP resource key."""
    stream = db.session.scalars(
        select(LiveStream).where(LiveStream.resource_key == resource_key)
    ).first()
    if stream is None or stream.owner_id != owner.id:
        raise NotFound("No such live lesson.")
    return stream


def end(owner: User, resource_key: str) -> LiveStream:
    """End the owner's live lesson (WHIP DELETE): the recording goes to the pipeline."""
    stream = by_key(owner, resource_key)
    if stream.status not in (LiveStatus.LIVE, LiveStatus.INTERRUPTED):
        return stream
    _end_stream(stream.id)
    return stream


def _end_stream(stream_id: int) -> None:
    try:
        manifest = _gateway("whip-end", stream_id).get("manifest")
    except NotFound:  # the gateway forgot it: a recording with no tracks
        manifest = None
    recorded(stream_id, manifest)


def watchable(user: User, stream_id: int) -> LiveStream:
    """Return a live lesson the user may watch."""
    stream = db.session.get(LiveStream, stream_id)
    if stream is None or stream.video is None:
        raise NotFound("No such live lesson.")
    videos.get_video(user, stream.video.id, VideoAction.VIEW)
    return stream


def watch(user: User, stream_id: int, sdp: str) -> dict[str, Any]:
    """Answer a viewer's WHEP offer through the gateway."""
    stream = watchable(user, stream_id)
    if stream.status != LiveStatus.LIVE:
        raise Conflict("This lesson is not live right now.")
    answer = _gateway("whep", stream.id, claims={"user": user.id}, sdp=_check_offer(sdp))
    audit.record_now("live.watched", actor=user, object_type="video", object_id=stream.video_id)
    return answer


def stop_watching(user: User, stream_id: int, session: str) -> None:
    """End one of the person's WHEP sessions, even after their access to the lesson ended.

    The gateway ends only a session opened for this person: ending needs no access, and
    nobody ends anyone else's.
    """
    stream = db.session.get(LiveStream, stream_id)
    if stream is None or stream.organization_id != user.organization_id:
        raise NotFound("No such live lesson.")
    try:
        _gateway("whep-end", stream.id, claims={"user": user.id}, session=session)
    except NotFound as exc:
        raise NotFound("No such viewer session.") from exc
    except Unavailable:
        # Someone who may not watch learns nothing from the gateway's state (a 503 would say
        # the lesson exists); with the gateway down, their session is gone anyway.
        if not policy.may_video(user, VideoAction.VIEW, video_of(stream)):
            raise NotFound("No such viewer session.") from None
        raise


@closes_channels("live viewers")
def close_live_viewers(video_ids: frozenset[int], user_ids: frozenset[int]) -> None:
    """Close the viewer sessions of people who may no longer watch; end deleted lessons' streams.

    A stream whose lesson was deleted ends the normal way (its recording is handed on, and
    its viewers close with it).
    """
    for stream in db.session.scalars(
        select(LiveStream).where(
            LiveStream.status.in_(OPEN),
            or_(LiveStream.video_id.in_(video_ids), LiveStream.video_id.is_(None)),
        )
    ):
        if stream.video is None:
            _end_stream(stream.id)
            continue
        allowed = set(policy.video_audience(stream.video))
        if user_ids - allowed:
            try:
                rtc_client.live("whep-keep", stream.id, claims={"allowed": sorted(allowed)})
            except rtc_client.GatewayRefused:
                pass  # the gateway has no such stream: no viewer to close
            except rtc_client.GatewayError as exc:
                raise from_status(exc.status, exc.message) from exc


def visible_streams(user: User) -> list[LiveStream]:
    """Return the live lessons the user may watch now."""
    return [
        s
        for s in db.session.scalars(
            select(LiveStream)
            .where(
                LiveStream.organization_id == user.organization_id,
                LiveStream.status.in_([LiveStatus.LIVE, LiveStatus.INTERRUPTED]),
            )
            .order_by(LiveStream.started_at.desc())
        )
        if s.video is not None and policy.may_video(user, VideoAction.VIEW, s.video)
    ]


# --- events from the gateway (through a worker) ------------------------------------------------


def interrupted(stream_id: int) -> None:
    """Mark a stream whose publisher dropped; it may still resume."""
    _set(stream_id, LiveStatus.INTERRUPTED)


def resumed(stream_id: int) -> None:
    """Mark a stream live again after a reconnect."""
    _set(stream_id, LiveStatus.LIVE)


def _set(stream_id: int, status: LiveStatus) -> None:
    stream = db.session.get(LiveStream, stream_id)
    if stream is None or not _move(stream_id, status):
        return
    _publish_status(stream)


def _move(stream_id: int, status: LiveStatus, **values: Any) -> bool:
    """Change the status of a stream that is still open, in one statement, and commit.

    A web request (resume, end) and a worker (the gateway's events) may act on one stream at
    once: a read-then-write could bring an ended lesson back to life. Answer whether it moved.
    """
    moved = db.session.execute(
        update(LiveStream)
        .where(LiveStream.id == stream_id, LiveStream.status.in_(OPEN))
        .values(status=status, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()  # also expires the loaded stream: it reads the new values next
    return bool(getattr(moved, "rowcount", 0))


def _publish_status(stream: LiveStream) -> None:
    # To the lesson's room (its watch page, the teacher's page) and to everyone who may watch,
    # so a home's "Live now" list follows without joining the room (that would be presence).
    if stream.video is None:
        return
    audience = policy.video_audience(stream.video)
    rooms = [lesson_room(stream.video.id, uid) for uid in audience]
    rooms += [user_room(uid) for uid in audience]
    publish(
        "live.status",
        {"video_id": stream.video.id, "stream_id": stream.id, "status": stream.status.value},
        room=rooms,
    )


def recorded(stream_id: int, manifest: str | None) -> None:
    """The stream is over: queue the making of its lesson video from the recording's manifest."""
    stream = db.session.get(LiveStream, stream_id)
    if stream is None or not _move(stream_id, LiveStatus.ENDED, ended_at=utcnow()):
        _discard(stream_id, manifest)  # nobody will make a lesson of these tracks
        return
    _publish_status(stream)
    queue.enqueue(MAKE_LESSON_VIDEO, stream.id, manifest)


def _discard(stream_id: int, manifest: str | None) -> None:
    # Only the files of this recording: the lesson's earlier segments may be merging meanwhile.
    where = folders.folder(current_app.config["DATA_DIR"], "live", stream_id)
    recording = folders.read_result(where, manifest)
    folders.discard(
        current_app.config["DATA_DIR"], "live", stream_id, folders.files_of(where, recording)
    )


def recording_kept(stream_id: int, quiet_s: float) -> bool:
    """Answer whether a live lesson's recording folder may still be needed.

    quiet_s is how long ago its folder was last written to.
    """
    stream = db.session.get(LiveStream, stream_id)
    if stream is None:
        return False
    video = db.session.get(Video, stream.video_id) if stream.video_id else None
    if stream.status in OPEN:
        # The gateway may still write (even for a deleted lesson, until it lets go).
        return video is not None or quiet_s < folders.WRITING_S
    if video is None or video.status == VideoStatus.FAILED or storage().source_path(video.id):
        return False  # deleted, refused, or already the lesson's source
    retention = float(current_app.config["RECORDING_RETENTION_HOURS"]) * 3600
    return quiet_s < retention  # still waiting for its merge


def serialise(stream: LiveStream) -> dict[str, Any]:
    """Return the JSON form of a live lesson."""
    return {
        "id": stream.id,
        "video_id": stream.video_id,
        "title": stream.video.title if stream.video else None,
        "owner": {"id": stream.owner.id, "name": stream.owner.name},
        "status": stream.status.value,
        "started_at": stream.started_at.isoformat(),
        "ended_at": stream.ended_at.isoformat() if stream.ended_at else None,
        "lesson_ms": lesson_ms(stream),
        "watch_url": f"/live/{stream.id}",
    }


def lesson_ms(stream: LiveStream) -> int:
    """Return the lesson time now by the server's clock (its length, once it has ended).

    A page keeps its lesson clock from this and the request's round trip, so feedback given
    live is stamped with the recording's time whatever the viewer's own clock says.
    """
    until = stream.ended_at or utcnow()
    return max(0, round((until - stream.started_at).total_seconds() * 1000))


def video_of(stream: LiveStream) -> Video:
    """Return the stream's lesson video."""
    if stream.video is None:
        raise NotFound("The lesson of this stream was deleted.")
    return stream.video

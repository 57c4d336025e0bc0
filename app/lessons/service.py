"""Lesson videos: create, list, view, share, revoke, delete — each checked and audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app.accounts import service as accounts
from app.accounts.models import User
from app.core import audit, policy
from app.core.access import access_shrank
from app.core.db import utcnow
from app.core.errors import Forbidden, Invalid, NotFound
from app.core.extensions import db
from app.core.policy import VideoAction
from app.core.realtime import publish, user_room
from app.core.storage import storage
from app.frameworks.models import Framework, FrameworkStatus
from app.lessons.models import SharePermission, Video, VideoShare, VideoStatus
from app.lessons.rooms import lesson_rooms

MAX_TITLE = 200


def _text(raw: object, field: str, limit: int, *, required: bool = False) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            raise Invalid(f"The {field} is required.", field=field)
        return None
    if not isinstance(raw, str):
        raise Invalid(f"The {field} must be text.", field=field)
    value = raw.strip()
    if len(value) > limit:
        raise Invalid(f"The {field} is at most {limit} characters.", field=field)
    return value


def create_video(
    owner: User,
    *,
    title: str,
    subject: str | None = None,
    grade: str | None = None,
    recorded_at: date | None = None,
    status: VideoStatus = VideoStatus.UPLOADED,
) -> Video:
    """Create a lesson video owned by the user."""
    if not policy.may_own_videos(owner):
        raise Forbidden("Only teachers and coaches keep lesson videos.")
    video = Video(
        owner_id=owner.id,
        organization_id=owner.organization_id,
        title=_text(title, "title", MAX_TITLE, required=True),
        subject=_text(subject, "subject", 100),
        grade=_text(grade, "grade", 20),
        recorded_at=recorded_at,
        status=status,
    )
    db.session.add(video)
    db.session.flush()
    audit.record("video.created", actor=owner, object_type="video", object_id=video.id)
    db.session.commit()
    return video


def get_video(user: User, video_id: int, action: VideoAction = VideoAction.VIEW) -> Video:
    """Return the video if the user may do the action; a video they may not see is not found."""
    video = db.session.get(Video, video_id)
    if video is None:
        raise NotFound("No such video.")
    allowed = policy.video_actions(user, video)
    if action not in allowed:
        audit.record_now(
            "video.access_denied",
            actor=user,
            object_type="video",
            object_id=video.id,
            wanted=action.value,
        )
        if VideoAction.VIEW not in allowed:
            raise NotFound("No such video.")
        raise Forbidden(f"You may not {action.value} this video.")
    return video


def view_video(user: User, video_id: int) -> Video:
    """Return a video for watching, auditing the view."""
    video = get_video(user, video_id)
    audit.record_now("video.viewed", actor=user, object_type="video", object_id=video.id)
    return video


def record_download(user: User, video: Video, path: str) -> None:
    """Audit a download of a video's file."""
    audit.record_now(
        "video.downloaded", actor=user, object_type="video", object_id=video.id, path=path
    )


def list_videos(user: User) -> list[Video]:
    """Return the videos the user may see, newest first."""
    return list(
        db.session.scalars(
            policy.visible_videos(user).order_by(Video.created_at.desc(), Video.id.desc())
        )
    )


def videos_owned_by(user: User, owner: User) -> list[Video]:
    """Return the owner's videos that the user may see (a coach looking at a caseload teacher)."""
    return list(
        db.session.scalars(
            policy.visible_videos(user)
            .where(Video.owner_id == owner.id)
            .order_by(Video.created_at.desc())
        )
    )


def update_video(user: User, video_id: int, changes: dict[str, Any]) -> Video:
    """Change the details of a video; only its owner can."""
    video = get_video(user, video_id, VideoAction.EDIT)
    if "title" in changes:
        video.title = _text(changes["title"], "title", MAX_TITLE, required=True)  # type: ignore[assignment]
    if "subject" in changes:
        video.subject = _text(changes["subject"], "subject", 100)
    if "grade" in changes:
        video.grade = _text(changes["grade"], "grade", 20)
    if "recorded_at" in changes:
        video.recorded_at = changes["recorded_at"]
    if "framework_id" in changes:
        framework_id = changes["framework_id"]
        if framework_id is not None:
            framework = db.session.get(Framework, framework_id)
            if (
                framework is None
                or framework.organization_id != video.organization_id
                or framework.status == FrameworkStatus.DRAFT
            ):
                raise Invalid("No such published framework in your district.", field="framework_id")
        video.framework_id = framework_id
    audit.record(
        "video.edited", actor=user, object_type="video", object_id=video.id, fields=sorted(changes)
    )
    db.session.commit()
    return video


def delete_video(user: User, video_id: int) -> None:
    """Delete a video with every file it has; only its owner can.

    Everyone watching loses it at once: their rooms, debrief rooms and live viewing close, and
    a live stream of it ends.
    """
    video = get_video(user, video_id, VideoAction.DELETE)
    audience = policy.video_audience(video)
    rooms = lesson_rooms(video)
    audit.record(
        "video.deleted", actor=user, object_type="video", object_id=video.id, title=video.title
    )
    db.session.delete(video)
    db.session.commit()
    storage().delete_video(video_id)
    publish("video.deleted", {"video_id": video_id}, room=[*rooms, user_room(user.id)])
    access_shrank([video_id], audience)


def active_shares(user: User, video_id: int) -> list[VideoShare]:
    """Return who the video is shared with now; only its owner may ask."""
    video = get_video(user, video_id, VideoAction.SHARE)
    return list(
        db.session.scalars(
            select(VideoShare)
            .where(VideoShare.video_id == video.id, VideoShare.revoked_at.is_(None))
            .order_by(VideoShare.id)
        )
    )


def share_video(user: User, video_id: int, email: object, permission: object) -> VideoShare:
    """Share a video with a coach or teacher of the district for view or comment."""
    video = get_video(user, video_id, VideoAction.SHARE)
    address = accounts.normalise_email(email)
    try:
        perm = SharePermission(str(permission))
    except ValueError as exc:
        raise Invalid("Permission must be view or comment.", field="permission") from exc
    grantee = accounts.find_user_by_email(address)
    if grantee is None or not policy.may_share_with(user, grantee):
        # One message for unknown, inactive and foreign accounts: nothing leaks across districts.
        raise Invalid("No active coach or teacher of your district has this email.", field="email")
    share = policy.active_share(grantee, video)
    if share is not None:
        if share.permission == perm:
            return share
        share.permission = perm
        action = "video.share_changed"
    else:
        share = VideoShare(
            video_id=video.id, grantee_id=grantee.id, permission=perm, granted_by_id=user.id
        )
        db.session.add(share)
        action = "video.shared"
    db.session.flush()
    audit.record(
        action,
        actor=user,
        object_type="video",
        object_id=video.id,
        share_id=share.id,
        grantee_id=grantee.id,
        permission=perm.value,
    )
    db.session.commit()
    publish(
        "video.shared", {"video_id": video.id, "title": video.title}, room=user_room(grantee.id)
    )
    return share


def revoke_share(user: User, video_id: int, share_id: int) -> None:
    """End a share at once: what the grantee has open on the lesson closes too."""
    video = get_video(user, video_id, VideoAction.SHARE)
    share = db.session.get(VideoShare, share_id)
    if share is None or share.video_id != video.id or share.revoked_at is not None:
        raise NotFound("No such share.")
    share.revoked_at = utcnow()
    audit.record(
        "video.share_revoked",
        actor=user,
        object_type="video",
        object_id=video.id,
        share_id=share.id,
        grantee_id=share.grantee_id,
    )
    db.session.commit()
    publish("video.access_revoked", {"video_id": video.id}, room=user_room(share.grantee_id))
    access_shrank([video.id], [share.grantee_id])


def serialise_video(video: Video, viewer: User) -> dict[str, Any]:
    """Return the JSON form of a video as the viewer may see it."""
    data: dict[str, Any] = {
        "id": video.id,
        "title": video.title,
        "subject": video.subject,
        "grade": video.grade,
        "recorded_at": video.recorded_at.isoformat() if video.recorded_at else None,
        "status": video.status.value,
        "failure_reason": video.failure_reason,
        "duration_s": video.duration_s,
        "owner": {"id": video.owner.id, "name": video.owner.name},
        "created_at": video.created_at.isoformat(),
        "is_owner": video.owner_id == viewer.id,
        "permissions": sorted(a.value for a in policy.video_actions(viewer, video)),
    }
    if video.status == VideoStatus.READY:
        base = f"/media/{video.id}/"
        data["media"] = {
            "hls": base + "hls/master.m3u8",
            "mp4": base + "video.mp4",
            "poster": base + "poster.jpg",
        }
    return data


def serialise_share(share: VideoShare) -> dict[str, Any]:
    """Return the JSON form of a share."""
    return {
        "id": share.id,
        "video_id": share.video_id,
        "permission": share.permission.value,
        "grantee": {
            "id": share.grantee.id,
            "name": share.grantee.name,
            "email": share.grantee.email,
            "role": share.grantee.role.value,
        },
        "created_at": share.created_at.isoformat(),
    }

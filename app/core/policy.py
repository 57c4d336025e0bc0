"""The one place that answers "may this user do this to that?"."""

from __future__ import annotations

import enum

from sqlalchemy import Select, false, or_, select

from app.accounts.models import Role, User
from app.core.extensions import db
from app.lessons.models import SharePermission, Video, VideoShare


class VideoAction(enum.StrEnum):
    """What someone can do to a video."""

    VIEW = "view"
    DOWNLOAD = "download"
    COMMENT = "comment"
    EDIT = "edit"
    SHARE = "share"
    DELETE = "delete"


_SHARE_ALLOWS: dict[SharePermission, frozenset[VideoAction]] = {
    SharePermission.VIEW: frozenset({VideoAction.VIEW, VideoAction.DOWNLOAD}),
    SharePermission.COMMENT: frozenset(
        {VideoAction.VIEW, VideoAction.DOWNLOAD, VideoAction.COMMENT}
    ),
}

# Roles a video may be shared with: coaches, and fellow teachers for peer observation.
SHAREABLE_ROLES = frozenset({Role.COACH, Role.TEACHER})


def active_share(user: User, video: Video) -> VideoShare | None:
    """Return the user's unrevoked share of the video, if any."""
    return db.session.scalars(
        select(VideoShare).where(
            VideoShare.video_id == video.id,
            VideoShare.grantee_id == user.id,
            VideoShare.revoked_at.is_(None),
        )
    ).first()


def video_actions(user: User | None, video: Video) -> frozenset[VideoAction]:
    """Return everything the user may do to the video.

    Private to the owner; a share grants view or comment; admins get nothing they were not
    given; nothing crosses districts.
    """
    if user is None or not user.active or video.organization_id != user.organization_id:
        return frozenset()
    if video.owner_id == user.id:
        return frozenset(VideoAction)
    share = active_share(user, video)
    return _SHARE_ALLOWS[share.permission] if share is not None else frozenset()


def may_video(user: User | None, action: VideoAction, video: Video) -> bool:
    """Answer whether the user may do the action to the video."""
    return action in video_actions(user, video)


def visible_videos(user: User) -> Select[Video]:
    """Return a query for every video the user may view."""
    shared = select(VideoShare.video_id).where(
        VideoShare.grantee_id == user.id, VideoShare.revoked_at.is_(None)
    )
    query = select(Video).where(
        Video.organization_id == user.organization_id,
        or_(Video.owner_id == user.id, Video.id.in_(shared)),
    )
    if not user.active:
        query = query.where(false())
    return query


def video_audience(video: Video) -> list[int]:
    """Return the ids of everyone who may view the video now, in one query.

    The same rule as video_actions(…) containing VIEW: the active owner and active grantees
    of unrevoked shares, all of the video's district.
    """
    shared = select(VideoShare.grantee_id).where(
        VideoShare.video_id == video.id, VideoShare.revoked_at.is_(None)
    )
    return list(
        db.session.scalars(
            select(User.id)
            .where(
                User.active.is_(True),
                User.organization_id == video.organization_id,
                or_(User.id == video.owner_id, User.id.in_(shared)),
            )
            .order_by(User.id)
        )
    )


def may_share_with(owner: User, grantee: User) -> bool:
    """Answer whether the owner may share a video with this person."""
    return (
        grantee.active
        and grantee.id != owner.id
        and grantee.organization_id == owner.organization_id
        and grantee.role in SHAREABLE_ROLES
    )


def may_own_videos(user: User) -> bool:
    """Answer whether the user may upload or record lessons of their own."""
    return user.active and user.role in (Role.TEACHER, Role.COACH)


def may_manage_district(user: User | None, organization_id: int) -> bool:
    """Answer whether the user administers people, caseloads and rubrics of the district."""
    return (
        user is not None
        and user.active
        and user.role == Role.ADMIN
        and user.organization_id == organization_id
    )

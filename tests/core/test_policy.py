"""The access matrix: role, relationship to the video and action, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from app.accounts import caseloads
from app.accounts import service as accounts
from app.accounts.models import Organization, User
from app.core import policy
from app.core.policy import VideoAction
from app.lessons import service as videos
from app.lessons.models import Video

ALL = frozenset(VideoAction)
WATCH = frozenset({VideoAction.VIEW, VideoAction.DOWNLOAD})
COMMENT = WATCH | {VideoAction.COMMENT}
NOTHING: frozenset[VideoAction] = frozenset()

# who -> what they may do to a teacher's video
EXPECTED = {
    "owner": ALL,
    "coach, shared for view": WATCH,
    "coach, shared for comment": COMMENT,
    "teacher, shared for view": WATCH,
    "coach, share revoked": NOTHING,
    "coach on the caseload, not shared": NOTHING,
    "coach, not shared": NOTHING,
    "other teacher": NOTHING,
    "admin of the district": NOTHING,
    "admin of another district": NOTHING,
    "coach of another district": NOTHING,
    "coach shared, then deactivated": NOTHING,
}


@pytest.fixture
def matrix(
    any_db_app: Flask,
    district: Callable[..., Organization],
    make_user: Callable[..., User],
    make_video: Callable[..., Video],
) -> tuple[Video, dict[str, User]]:
    home = district("home")
    away = district("away")
    owner = make_user("teacher", org=home)
    people = {
        "owner": owner,
        "coach, shared for view": make_user("coach", org=home),
        "coach, shared for comment": make_user("coach", org=home),
        "teacher, shared for view": make_user("teacher", org=home),
        "coach, share revoked": make_user("coach", org=home),
        "coach on the caseload, not shared": make_user("coach", org=home),
        "coach, not shared": make_user("coach", org=home),
        "other teacher": make_user("teacher", org=home),
        "admin of the district": make_user("admin", org=home),
        "admin of another district": make_user("admin", org=away),
        "coach of another district": make_user("coach", org=away),
        "coach shared, then deactivated": make_user("coach", org=home),
    }
    video = make_video(owner)
    videos.share_video(owner, video.id, people["coach, shared for view"].email, "view")
    videos.share_video(owner, video.id, people["coach, shared for comment"].email, "comment")
    videos.share_video(owner, video.id, people["teacher, shared for view"].email, "view")
    revoked = videos.share_video(owner, video.id, people["coach, share revoked"].email, "comment")
    videos.revoke_share(owner, video.id, revoked.id)
    caseloads.assign_coach(None, people["coach on the caseload, not shared"], owner)
    videos.share_video(owner, video.id, people["coach shared, then deactivated"].email, "comment")
    admin = people["admin of the district"]
    accounts.set_active(admin, people["coach shared, then deactivated"].id, False)
    return video, people


def test_video_access_matrix(matrix: tuple[Video, dict[str, User]]) -> None:
    video, people = matrix
    actual = {
        who: frozenset(a for a in VideoAction if policy.may_video(user, a, video))
        for who, user in people.items()
    }
    assert actual == EXPECTED


def test_listing_agrees_with_the_matrix(matrix: tuple[Video, dict[str, User]]) -> None:
    video, people = matrix
    listed = {who: video.id in [v.id for v in videos.list_videos(u)] for who, u in people.items()}
    assert listed == {who: VideoAction.VIEW in allowed for who, allowed in EXPECTED.items()}


def test_live_audience_agrees_with_the_matrix(matrix: tuple[Video, dict[str, User]]) -> None:
    video, people = matrix
    audience = set(policy.video_audience(video))
    assert {who for who, u in people.items() if u.id in audience} == {
        who for who, allowed in EXPECTED.items() if VideoAction.VIEW in allowed
    }


def test_nobody_signed_in_may_do_nothing(matrix: tuple[Video, dict[str, User]]) -> None:
    video, _ = matrix
    assert policy.video_actions(None, video) == NOTHING


def test_district_management_stays_in_the_district(
    any_db_app: Flask, district: Callable[..., Organization], make_user: Callable[..., User]
) -> None:
    home, away = district("home"), district("away")
    admin = make_user("admin", org=home)
    assert policy.may_manage_district(admin, home.id)
    assert not policy.may_manage_district(admin, away.id)
    assert not policy.may_manage_district(make_user("coach", org=home), home.id)
    assert not policy.may_manage_district(make_user("teacher", org=home), home.id)
    assert not policy.may_manage_district(None, home.id)


def test_sharing_targets(
    any_db_app: Flask, district: Callable[..., Organization], make_user: Callable[..., User]
) -> None:
    home, away = district("home"), district("away")
    owner = make_user("teacher", org=home)
    assert policy.may_share_with(owner, make_user("coach", org=home))
    assert policy.may_share_with(owner, make_user("teacher", org=home))
    assert not policy.may_share_with(owner, owner)
    assert not policy.may_share_with(owner, make_user("admin", org=home))
    assert not policy.may_share_with(owner, make_user("coach", org=away))

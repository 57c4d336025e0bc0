"""Pages of lessons: one lesson with its feedback, and the upload page."""

from __future__ import annotations

from flask import (
    abort,
    render_template,
)

from app.accounts.models import Role
from app.accounts.security import (
    signed_in,
    signed_in_user,
)
from app.core import policy
from app.core.pages import bp
from app.feedback import service as feedback
from app.lessons import service as videos


@bp.get("/videos/<int:video_id>")
@signed_in
def video_page(video_id: int) -> str:
    """Show one lesson video with its timecoded feedback."""
    me = signed_in_user()
    video = videos.view_video(me, video_id)
    return render_template(
        "video.html",
        video=video,
        actions=policy.video_actions(me, video),
        me={"id": me.id, "name": me.name, "role": me.role.value},
        is_owner=video.owner_id == me.id,
        has_framework=feedback.framework_for(video, me) is not None,
        # Coaches and teachers who may comment hold debriefs (debriefs/service.py create_debrief).
        can_debrief=me.role in (Role.COACH, Role.TEACHER)
        and policy.may_video(me, policy.VideoAction.COMMENT, video),
    )


@bp.get("/upload")
@signed_in
def upload_page() -> str:
    """Upload or record lessons: resumable (tus) uploads, then live processing progress."""
    if not policy.may_own_videos(signed_in_user()):
        abort(404)
    return render_template("upload.html")

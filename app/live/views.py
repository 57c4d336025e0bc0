"""Pages of live lessons: going live (WHIP) and watching one (WHEP)."""

from __future__ import annotations

from typing import Any

from flask import (
    abort,
    current_app,
    render_template,
    url_for,
)

from app.accounts import caseloads
from app.accounts.security import (
    signed_in,
    signed_in_user,
)
from app.core import policy
from app.core.pages import bp
from app.feedback import service as feedback
from app.live import service as live


def _live_ice() -> list[dict[str, Any]]:
    # STUN only: a page streams to or from the gateway, whose address is reachable; TURN
    # credentials are minted per debrief member (debriefs/service.py ice_servers).
    urls = list(current_app.config["STUN_URLS"])
    return [{"urls": urls}] if urls else []


@bp.get("/live/new")
@signed_in
def live_new() -> str:
    """Go live: preview the camera and microphone, then stream the lesson (WHIP)."""
    me = signed_in_user()
    if not policy.may_own_videos(me):
        abort(404)
    return render_template(
        "live_go.html",
        whip_url=url_for("live.whip", _external=True),
        ice_servers=_live_ice(),
        coaches=caseloads.coaches_of(me),
        me={"id": me.id, "name": me.name, "role": me.role.value},
    )


@bp.get("/live/<int:stream_id>")
@signed_in
def live_watch(stream_id: int) -> str:
    """Watch a live lesson (WHEP) and give feedback at the lesson's moment."""
    me = signed_in_user()
    stream = live.watchable(me, stream_id)  # anyone who may not watch: 404
    video = live.video_of(stream)
    return render_template(
        "live_watch.html",
        stream=live.serialise(stream),
        video=video,
        ice_servers=_live_ice(),
        can_comment=policy.VideoAction.COMMENT in policy.video_actions(me, video),
        is_owner=video.owner_id == me.id,
        has_framework=feedback.framework_for(video, me) is not None,
        me={"id": me.id, "name": me.name, "role": me.role.value},
    )

"""Replies: the thread under an annotation. Whoever sees an annotation and may comment on its
lesson replies; only a reply's author changes or deletes it. May use the feedback service.
"""

from __future__ import annotations

from app.accounts.models import User
from app.core import policy, richtext
from app.core.db import utcnow
from app.core.errors import Forbidden, NotFound
from app.core.extensions import db
from app.core.policy import VideoAction
from app.feedback.models import Annotation, AnnotationReply, Visibility
from app.feedback.schemas import ReplyIn
from app.feedback.service import annotation_and_video, announce, next_seq
from app.lessons.models import Video


def add_reply(user: User, annotation_id: int, data: ReplyIn) -> Annotation:
    """Reply in the thread of an annotation the user sees, on a video they may comment on."""
    annotation, video = annotation_and_video(user, annotation_id)
    if not policy.may_video(user, VideoAction.COMMENT, video):
        raise Forbidden("You may watch this lesson but not reply.")
    body = richtext.clean(data.body)
    annotation.seq = next_seq(video.id)
    annotation.replies.append(AnnotationReply(author_id=user.id, body=body, created_at=utcnow()))
    db.session.commit()
    announce(video, annotation, was_visible_to_all=annotation.visibility == Visibility.SHARED)
    return annotation


def _own_reply(
    user: User, annotation_id: int, reply_id: int
) -> tuple[Annotation, Video, AnnotationReply]:
    annotation, video = annotation_and_video(user, annotation_id)
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
    annotation.seq = next_seq(video.id)
    reply.body = body
    reply.edited_at = utcnow()
    db.session.commit()
    announce(video, annotation, was_visible_to_all=annotation.visibility == Visibility.SHARED)
    return annotation


def delete_reply(user: User, annotation_id: int, reply_id: int) -> Annotation:
    """Delete the author's own reply."""
    annotation, video, reply = _own_reply(user, annotation_id, reply_id)
    annotation.seq = next_seq(video.id)
    annotation.replies.remove(reply)
    db.session.commit()
    announce(video, annotation, was_visible_to_all=annotation.visibility == Visibility.SHARED)
    return annotation

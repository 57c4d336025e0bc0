"""Every model, importable from one place."""

from app.models.annotation import Annotation, AnnotationKind, AnnotationReply, Visibility
from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.debrief import (
    Debrief,
    DebriefAttendance,
    DebriefNote,
    DebriefParticipant,
    DebriefRole,
    NoteKind,
    RecordingState,
)
from app.models.live import LiveStatus, LiveStream
from app.models.organization import Organization, School
from app.models.rubric import Framework, FrameworkStatus, RubricDimension, RubricLevel
from app.models.upload import Upload
from app.models.user import ApiToken, CoachAssignment, Invitation, LoginSession, Role, User
from app.models.video import SharePermission, Video, VideoShare, VideoStatus

__all__ = [
    "Annotation",
    "AnnotationKind",
    "AnnotationReply",
    "ApiToken",
    "AuditEvent",
    "Base",
    "CoachAssignment",
    "Debrief",
    "DebriefAttendance",
    "DebriefNote",
    "DebriefParticipant",
    "DebriefRole",
    "Framework",
    "FrameworkStatus",
    "Invitation",
    "LiveStatus",
    "LiveStream",
    "LoginSession",
    "NoteKind",
    "Organization",
    "RecordingState",
    "Role",
    "RubricDimension",
    "RubricLevel",
    "School",
    "SharePermission",
    "Upload",
    "User",
    "Video",
    "VideoShare",
    "VideoStatus",
    "Visibility",
]

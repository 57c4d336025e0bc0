"""The shapes of feedback: what the API and the socket events read and send, and the portable
document (format loupe.annotations, version 1) that exports write and imports read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel

from app.accounts.models import User
from app.core import richtext
from app.core.numbers import Count, Id
from app.feedback.models import Annotation, AnnotationKind, Visibility

MAX_MS = 24 * 3600 * 1000


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


class CsvExport(RootModel[str]):
    """CSV in UTF-8 with a BOM, one row per annotation; a cell that a spreadsheet would run as
    a formula starts with an apostrophe."""


class VttExport(RootModel[str]):
    """A WebVTT metadata track: one cue per annotation, its id as the cue identifier and one
    line of JSON (id, kind, dimension, level_score, level, author, body) as the cue text."""

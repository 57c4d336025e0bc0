"""The portable document of a lesson's feedback (loupe.annotations, version 1): its export, a
lossless JSON file, and its import, which adds the document's annotations to a lesson.

An export holds exactly what its reader may see (`service.all_annotations`) and is audited as a
download of the video; an import is a write and follows the service's rules.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.core import audit, richtext
from app.core.db import utcnow
from app.core.errors import Invalid
from app.core.extensions import db
from app.feedback.exports import export_filename, exportable
from app.feedback.models import Annotation, AnnotationReply, Visibility
from app.feedback.schemas import (
    AnnotationsDocument,
    DocumentAnnotation,
    DocumentPerson,
    DocumentReply,
    DocumentTag,
    DocumentVideo,
)
from app.feedback.service import announce, check_times, writable_video
from app.frameworks.models import Framework, RubricDimension
from app.lessons import service as videos
from app.lessons.models import Video

# --- export ------------------------------------------------------------------------------------


def document(video: Video, items: list[Annotation]) -> AnnotationsDocument:
    """Return the annotations as the lossless, versioned document an import reads back."""
    return AnnotationsDocument(
        video=DocumentVideo(id=video.id, title=video.title, duration_s=video.duration_s),
        exported_at=utcnow(),
        annotations=[document_annotation(a) for a in items],
    )


def export_document(user: User, video_id: int) -> tuple[AnnotationsDocument, str]:
    """Return the feedback the user sees as a JSON document and its file name, audited."""
    video, items = exportable(user, video_id)
    doc, name = document(video, items), export_filename(video, "json")
    videos.record_download(user, video, "annotations.json")
    return doc, name


# --- import ------------------------------------------------------------------------------------


def document_annotation(a: Annotation) -> DocumentAnnotation:
    """Return an annotation and its thread in the document's form."""
    tag = None
    if a.dimension_name is not None:
        tag = DocumentTag(
            framework_name=a.framework_name,
            framework_version=a.framework_version,
            dimension_name=a.dimension_name,
            colour=a.dimension_colour or "#64748b",
            level_score=a.level_score,
            level_label=a.level_label,
        )
    return DocumentAnnotation(
        start_ms=a.start_ms,
        end_ms=a.end_ms,
        body=a.body,
        kind=a.kind,
        visibility=a.visibility,
        author=DocumentPerson(id=a.author.id, name=a.author.name),
        imported_author_name=a.imported_author_name,
        created_at=a.created_at,
        edited_at=a.edited_at,
        tag=tag,
        replies=[
            DocumentReply(
                author=DocumentPerson(id=r.author.id, name=r.author.name),
                imported_author_name=r.imported_author_name,
                body=r.body,
                created_at=r.created_at,
                edited_at=r.edited_at,
            )
            for r in a.replies
        ],
    )


def _original_author(author: DocumentPerson, imported_author_name: str | None) -> str:
    # A document's names are whatever its writer typed: never an author here, only the text of
    # the mark. Feedback imported before keeps its first writer's name through a round trip.
    return imported_author_name or author.name


def _clean_at(raw: str, where: str) -> str:
    try:
        return richtext.clean(raw)
    except Invalid as exc:
        raise Invalid(f"{where}: {exc.message}", field=where) from None


class _TagLinker:
    """Find this district's dimension and level matching a tag snapshot, once per snapshot."""

    def __init__(self, organization_id: int) -> None:
        self.organization_id = organization_id
        self.found: dict[tuple[str, int, str], RubricDimension | None] = {}

    def dimension(self, tag: DocumentTag) -> RubricDimension | None:
        if tag.framework_name is None or tag.framework_version is None:
            return None
        key = (tag.framework_name, tag.framework_version, tag.dimension_name)
        if key not in self.found:
            self.found[key] = db.session.scalars(
                select(RubricDimension)
                .join(Framework, RubricDimension.framework_id == Framework.id)
                .where(
                    Framework.organization_id == self.organization_id,
                    Framework.name == tag.framework_name,
                    Framework.version == tag.framework_version,
                    RubricDimension.name == tag.dimension_name,
                )
                .order_by(Framework.id, RubricDimension.position)
            ).first()
        return self.found[key]

    def apply(self, annotation: Annotation, tag: DocumentTag | None) -> None:
        if tag is None:
            return
        # The snapshot is kept as written, linked or not: it is what the feedback said.
        annotation.framework_name = tag.framework_name
        annotation.framework_version = tag.framework_version
        annotation.dimension_name = tag.dimension_name
        annotation.dimension_colour = tag.colour.lower()
        annotation.level_score = tag.level_score
        annotation.level_label = tag.level_label
        dimension = self.dimension(tag)
        if dimension is None:
            return
        annotation.framework_id = dimension.framework_id
        annotation.dimension_id = dimension.id
        level = next(
            (
                lv
                for lv in dimension.levels
                if tag.level_score is not None
                and lv.score == tag.level_score
                and lv.label == tag.level_label
            ),
            None,
        )
        annotation.level_id = level.id if level else None


def _imported(
    user: User, video: Video, index: int, item: DocumentAnnotation, tags: _TagLinker
) -> Annotation:
    where = f"annotations.{index}"
    try:
        check_times(video, item.start_ms, item.end_ms)
    except Invalid as exc:
        field = f"{where}.{exc.field}"
        raise Invalid(f"{field}: {exc.message}", field=field) from None
    annotation = Annotation(
        video_id=video.id,
        author_id=user.id,
        imported_author_name=_original_author(item.author, item.imported_author_name),
        start_ms=item.start_ms,
        end_ms=item.end_ms,
        body=_clean_at(item.body, f"{where}.body"),
        kind=item.kind,
        visibility=item.visibility,
        ever_shared=item.visibility == Visibility.SHARED,
        created_at=item.created_at,
        edited_at=item.edited_at,
    )
    tags.apply(annotation, item.tag)
    annotation.replies = [
        AnnotationReply(
            author_id=user.id,
            imported_author_name=_original_author(reply.author, reply.imported_author_name),
            body=_clean_at(reply.body, f"{where}.replies.{n}.body"),
            created_at=reply.created_at,
            edited_at=reply.edited_at,
        )
        for n, reply in enumerate(item.replies)
    ]
    return annotation


def _next_seqs(video_id: int, count: int) -> list[int]:
    """Take `count` consecutive change numbers in one statement, under the video's row lock."""
    last = int(
        db.session.execute(
            update(Video)
            .where(Video.id == video_id)
            .values(annotation_seq=Video.annotation_seq + count, updated_at=Video.updated_at)
            .returning(Video.annotation_seq)
        ).scalar_one()
    )
    return list(range(last - count + 1, last + 1))


def import_annotations(
    user: User, video_id: int, document: AnnotationsDocument
) -> list[Annotation]:
    """Create a document's annotations on a video the user may comment on: all or none.

    The importer becomes the author of everything, marked as imported with the name the
    document gives (shown only as text in that mark). Tags keep their snapshot and link to
    this district's matching dimension, if any.
    """
    video = writable_video(user, video_id)
    tags = _TagLinker(video.organization_id)
    # Everything is checked before the first write, so a bad item leaves no trace.
    made = [_imported(user, video, i, item, tags) for i, item in enumerate(document.annotations)]
    if not made:
        return []
    try:
        # Each annotation gets its own change number, so catch-up pages never split a tie.
        for annotation, seq in zip(made, _next_seqs(video.id, len(made)), strict=True):
            annotation.seq = seq
        db.session.add_all(made)
        audit.record(
            "annotations.imported",
            actor=user,
            object_type="video",
            object_id=video.id,
            count=len(made),
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    ids = [a.id for a in made]
    imported = list(
        db.session.scalars(
            select(Annotation)
            .where(Annotation.id.in_(ids))
            .options(
                selectinload(Annotation.author),
                selectinload(Annotation.replies).selectinload(AnnotationReply.author),
            )
            .order_by(Annotation.start_ms, Annotation.id)
        )
    )
    for annotation in sorted(imported, key=lambda a: a.seq):
        announce(video, annotation, was_visible_to_all=False)
    return imported

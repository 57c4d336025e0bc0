"""Resumable uploads (tus 1.0): create, append in bounded memory, finish into a lesson, expire.

Bytes go straight from the request stream to a file named by the upload's id, a megabyte at
a time; only the offset is kept in the database. An upload's writers are serialised by a
site-wide lock, so several web processes can share uploads.
"""

from __future__ import annotations

import base64
import binascii
import errno
import hashlib
import os
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.exceptions import ClientDisconnected

from app.accounts.models import User
from app.core import audit, policy
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from app.core.extensions import db
from app.core.locks import Busy, named_lock
from app.lessons import processing
from app.lessons.models import Upload, Video

CHUNK = 1024 * 1024
COMMIT_EVERY = 64 * 1024 * 1024  # a long single request keeps what arrived if it breaks
CHECKSUMS = {"sha1": hashlib.sha1, "md5": hashlib.md5, "sha256": hashlib.sha256}
METADATA_KEYS = {"filename", "filetype", "title", "subject", "grade", "recorded_at", "name", "type"}


class Gone(ServiceError):
    """The upload expired; its bytes are gone."""

    status = 410


class TooLarge(ServiceError):
    """The upload is larger than allowed, or than the owner's quota leaves room for."""

    status = 413


class ChecksumMismatch(ServiceError):
    """The chunk did not match its checksum; it was discarded."""

    status = 460


class OutOfSpace(ServiceError):
    """The server's disk is full; the upload keeps what it had and can resume later."""

    status = 507


class Locked(ServiceError):
    """Another request is writing this upload right now."""

    status = 423


def upload_path(upload_id: str) -> Path:
    """Return where the bytes of an upload are written (never derived from the file's name)."""
    folder: Path = current_app.config["UPLOAD_DIR"]
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{upload_id}.part"


def parse_metadata(raw: str | None) -> dict[str, str]:
    """Decode tus Upload-Metadata ("key base64,key base64") into text values."""
    if not raw:
        return {}
    if len(raw) > 4096:
        raise Invalid("Upload-Metadata is too long.", field="Upload-Metadata")
    values: dict[str, str] = {}
    for pair in raw.split(","):
        key, _, encoded = pair.strip().partition(" ")
        if not key or not key.isascii() or " " in encoded:
            raise Invalid(
                "Upload-Metadata must be 'key base64value' pairs.", field="Upload-Metadata"
            )
        try:
            value = base64.b64decode(encoded, validate=True).decode("utf-8") if encoded else ""
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Invalid(
                f"Upload-Metadata {key!r} is not base64 text.", field="Upload-Metadata"
            ) from exc
        if key in METADATA_KEYS:
            values[key] = value.replace("\x00", "")[:1000]
    if values.get("recorded_at"):
        try:
            date.fromisoformat(values["recorded_at"])
        except ValueError as exc:
            raise Invalid(
                "recorded_at must be a date like 2026-03-14.", field="recorded_at"
            ) from exc
    return values


def quota_used(user: User) -> int:
    """Return the bytes the user's lessons and unfinished uploads take."""
    stored = db.session.scalar(
        select(func.coalesce(func.sum(Video.source_bytes), 0)).where(Video.owner_id == user.id)
    )
    pending = db.session.scalar(
        select(func.coalesce(func.sum(Upload.length), 0)).where(
            Upload.user_id == user.id, Upload.completed_at.is_(None), Upload.expires_at > utcnow()
        )
    )
    return int(stored or 0) + int(pending or 0)


def _lock_owner(user: User) -> None:
    """Take the owner's row lock for the rest of the transaction (every web process waits)."""
    # A write, not SELECT ... FOR UPDATE: PostgreSQL locks the row, and SQLite takes its one
    # writer lock *before* the quota is read (a read first would see a stale snapshot).
    db.session.execute(
        update(User).where(User.id == user.id).values(id=User.id),
        execution_options={"synchronize_session": False},
    )


def _expiry() -> timedelta:
    return timedelta(hours=int(current_app.config["UPLOAD_EXPIRY_HOURS"]))


def create_upload(user: User, length: int | None, raw_metadata: str | None) -> Upload:
    """Start an upload of length bytes for the user."""
    if not policy.may_own_videos(user):
        raise Forbidden("Only teachers and coaches upload lessons.")
    if length is None or length < 0:
        raise Invalid("Upload-Length must be a whole number of bytes.", field="Upload-Length")
    if length == 0:
        raise Invalid("The file is empty.", field="Upload-Length")
    limit = int(current_app.config["UPLOAD_MAX_BYTES"])
    if length > limit:
        raise TooLarge(f"The file is too large: lessons can be up to {limit / 1024**3:.0f} GB.")
    quota = int(current_app.config["USER_QUOTA_BYTES"])
    _lock_owner(user)  # held until the commit below, so the check and the reservation are one
    used = quota_used(user)
    if used + length > quota:
        free = max(0, quota - used) / 1024**3
        raise TooLarge(
            f"This upload would go over your storage quota ({free:.1f} GB left of "
            f"{quota / 1024**3:.0f} GB). Delete lessons you no longer need, "
            "or ask your administrator."
        )
    meta = parse_metadata(raw_metadata)
    upload = Upload(
        user_id=user.id,
        length=length,
        offset=0,
        raw_metadata=raw_metadata or None,
        meta=meta,
        expires_at=utcnow() + _expiry(),
    )
    db.session.add(upload)
    db.session.flush()
    upload_path(upload.id).touch()
    audit.record(
        "upload.started", actor=user, object_type="upload", object_id=upload.id, bytes=length
    )
    db.session.commit()
    return upload


def get_upload(user: User, upload_id: str) -> Upload:
    """Return the user's own upload; anyone else's is not found; an expired one is gone."""
    upload = db.session.get(Upload, upload_id, populate_existing=True)
    if upload is None or upload.user_id != user.id:
        raise NotFound("No such upload.")
    if upload.completed_at is None and upload.expires_at < utcnow():
        raise Gone("This upload expired; start it again.")
    return upload


def append(
    user: User,
    upload_id: str,
    offset: int | None,
    stream: BinaryIO,
    checksum: tuple[str, bytes] | None = None,
) -> Upload:
    """Write the request body at offset; finish the lesson when the last byte lands."""
    if offset is None or offset < 0:
        raise Invalid("Upload-Offset must be a whole number of bytes.", field="Upload-Offset")
    try:
        wait = float(current_app.config["UPLOAD_LOCK_WAIT_S"])
        with named_lock(f"upload-{upload_id}", wait_s=wait) as held:
            upload = get_upload(user, upload_id)
            if offset != upload.offset:
                raise Conflict(
                    f"Upload-Offset {offset} does not match the upload's offset {upload.offset}."
                )
            if upload.completed_at is not None:
                raise Conflict("This upload is complete.")
            _write(upload, stream, checksum, held.refresh)
            if upload.offset == upload.length:
                _finish(upload)
            return upload
    except Busy as exc:
        raise Locked("Another request is writing this upload; try again in a moment.") from exc


def _write(
    upload: Upload, stream: BinaryIO, checksum: tuple[str, bytes] | None, keep_lock: object
) -> None:
    start = upload.offset
    room = upload.length - start
    hasher = CHECKSUMS[checksum[0]]() if checksum else None
    written = 0
    committed = start
    path = upload_path(upload.id)
    # Unbuffered: a write that fails on a full disk leaves nothing pending to flush later.
    with path.open("r+b", buffering=0) as out:
        out.seek(start)
        try:
            while True:
                block = stream.read(CHUNK)
                if not block:
                    break
                if written + len(block) > room:
                    out.truncate(start)
                    raise TooLarge("More bytes were sent than the upload's length.")
                _write_all(out, block)
                written += len(block)
                if hasher is not None:
                    hasher.update(block)
                elif written - (committed - start) >= COMMIT_EVERY:
                    committed = _commit_progress(upload, out, start + written)
                if callable(keep_lock):
                    keep_lock()
            if hasher is not None and checksum is not None and hasher.digest() != checksum[1]:
                out.truncate(start)
                raise ChecksumMismatch("The chunk did not match its checksum and was discarded.")
            _commit_progress(upload, out, start + written)
        except (ClientDisconnected, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                # Only what an earlier fsync promised counts; the rest is dropped to free space.
                db.session.rollback()
                out.truncate(committed)
                raise OutOfSpace(
                    f"The server is out of storage space. The upload keeps its first {committed} "
                    "bytes; send the rest once space is freed."
                ) from exc
            if hasher is not None:
                out.truncate(start)  # a partial chunk cannot be checked, so none of it counts
                raise
            _commit_progress(upload, out, start + written)  # keep every byte that arrived
            raise


def _write_all(out: BinaryIO, block: bytes) -> None:
    view = memoryview(block)
    while view:
        view = view[out.write(view) or 0 :]


def _commit_progress(upload: Upload, out: BinaryIO, offset: int) -> int:
    # The offset is only promised once the bytes before it are on disk.
    out.flush()
    os.fsync(out.fileno())
    upload.offset = offset
    upload.expires_at = utcnow() + _expiry()
    db.session.commit()
    return offset


def _finish(upload: Upload) -> None:
    meta = upload.meta
    name = meta.get("filename") or meta.get("name") or ""
    title = (meta.get("title") or Path(name).stem or "Untitled lesson").strip()[:200]
    recorded = date.fromisoformat(meta["recorded_at"]) if meta.get("recorded_at") else None
    video = processing.ingest(
        upload.user,
        upload_path(upload.id),
        title=title,
        original_name=name,
        subject=(meta.get("subject") or None),
        grade=(meta.get("grade") or None),
        recorded_at=recorded,
        source_bytes=upload.length,
    )
    upload.completed_at = utcnow()
    upload.video_id = video.id
    audit.record(
        "upload.completed",
        actor=upload.user,
        object_type="upload",
        object_id=upload.id,
        video_id=video.id,
    )
    db.session.commit()


def terminate(user: User, upload_id: str) -> None:
    """Cancel an upload and remove its bytes (tus termination)."""
    try:
        with named_lock(f"upload-{upload_id}"):
            upload = db.session.get(Upload, upload_id)
            if upload is None or upload.user_id != user.id:
                raise NotFound("No such upload.")
            if upload.completed_at is not None:
                raise Conflict("This upload is complete; delete the lesson instead.")
            upload_path(upload.id).unlink(missing_ok=True)
            audit.record("upload.terminated", actor=user, object_type="upload", object_id=upload.id)
            db.session.delete(upload)
            db.session.commit()
    except Busy as exc:
        raise Locked("Another request is writing this upload; try again in a moment.") from exc


def remove_expired(grace: timedelta = timedelta(days=7)) -> int:
    """Delete the bytes of expired uploads; forget them entirely after a grace period."""
    now = utcnow()
    removed = 0
    for upload in db.session.scalars(
        select(Upload).where(Upload.completed_at.is_(None), Upload.expires_at < now)
    ):
        path = upload_path(upload.id)
        if path.exists():
            path.unlink()
            removed += 1
        if upload.expires_at < now - grace:
            db.session.delete(upload)  # after the grace period a HEAD answers 404, not 410
    old_done = select(Upload).where(
        Upload.completed_at.is_not(None), Upload.completed_at < now - grace
    )
    for upload in db.session.scalars(old_done):
        db.session.delete(upload)
    db.session.commit()
    return removed

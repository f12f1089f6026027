"""Evidence that lasts: a durable copy of every ticket and application photo, fetched well inside
WeCom's 3 days.

WeCom keeps received media for 3 days; after that ``media/get`` answers 40007 and the photo is
gone. When a photo (the resident's, or the grid worker's proof) is saved, ``note_saved`` marks it
and, once the transaction commits, a job downloads it (``fetch``) into the evidence store: the
local filesystem under ``QINGCHE_MEDIA_DIR`` by default, S3-compatible object storage (MinIO, COS)
with ``QINGCHE_MEDIA_S3_URL``. A failure is retried with back-off by the sweeper
(``sweep_unstored``) until stored, or until WeCom says the media is gone. The workbench serves the
copy only to people who may see its ticket. Application photos (ID cards, leases) are kept the same
way and their copies deleted when retention erases the application's data (``forget``).
"""
from __future__ import annotations

import hashlib
import logging
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from bot import runtime
from bot.db import session_scope
from bot.errors import WeComError
from bot.models import ApplicationMedia, TicketMedia
from bot.timeutil import utcnow

log = logging.getLogger(__name__)

BACKOFF = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)   # seconds; all well inside 3 days
GONE_ERRCODES = frozenset({40007})   # invalid (expired) media_id: retrying cannot help
SWEEP_BATCH = 50
GRACE = timedelta(seconds=15)
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
              "video/mp4": "mp4", "audio/amr": "amr"}
_INFO_KEY = "qingche.evidence"
# kind -> (model, the owner's id column, the folder in the store)
KINDS = {"ticket": (TicketMedia, "ticket_id", "tickets"),
         "application": (ApplicationMedia, "application_id", "applications")}


def _kind_of(media) -> str:
    return "application" if isinstance(media, ApplicationMedia) else "ticket"


# --- stores -----------------------------------------------------------------------------------

class LocalStore:
    """Files under a directory; keys are relative paths."""

    def __init__(self, root: str):
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError("key outside the store")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)   # a reader never sees half a file

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


class S3Store:
    """An S3-compatible bucket (MinIO, Tencent COS) through boto3: ``https://key:secret@host/bucket``.

    Kept to put and get behind the same interface as ``LocalStore``; it is exercised here against
    botocore's stubber, not a live server."""

    def __init__(self, url: str, client=None):
        parts = urlsplit(url)
        self.bucket = parts.path.strip("/").split("/")[0]
        if client is None:
            try:
                import boto3
            except ImportError:  # pragma: no cover - the s3 extra is not installed
                raise RuntimeError("QINGCHE_MEDIA_S3_URL needs boto3: pip install 'qingche[s3]'") from None
            client = boto3.client("s3", endpoint_url=f"{parts.scheme}://{parts.hostname}"
                                  + (f":{parts.port}" if parts.port else ""),
                                  aws_access_key_id=unquote(parts.username or ""),
                                  aws_secret_access_key=unquote(parts.password or ""),
                                  region_name=os.environ.get("AWS_REGION", "us-east-1"))
        self.client = client

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)


_stores: dict[str, object] = {}


def store():
    """The evidence store the settings name (one per process)."""
    config = runtime.get().config
    where = config.QINGCHE_MEDIA_S3_URL or config.QINGCHE_MEDIA_DIR or "media"
    if where not in _stores:
        _stores[where] = S3Store(where) if config.QINGCHE_MEDIA_S3_URL else LocalStore(where)
    return _stores[where]


# --- queueing ---------------------------------------------------------------------------------

def note_saved(session: Session, media: TicketMedia | ApplicationMedia) -> None:
    """A photo was saved in this transaction: fetch it once the transaction commits."""
    if not media.media_id:
        return
    media.next_fetch_at = (media.added_at or utcnow()) + GRACE   # the sweeper leaves it to the job first
    session.info.setdefault(_INFO_KEY, []).append((_kind_of(media), media.id))


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    ids = session.info.pop(_INFO_KEY, None)
    if not ids:
        return
    try:
        queue = runtime.get().queue
        for kind, media_pk in ids:
            queue.enqueue("bot.evidence.fetch", media_pk, kind)
    except Exception as exc:   # Redis down: the sweeper fetches it
        log.warning("could not enqueue photo fetch (%s); the sweeper will", type(exc).__name__)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if not session.in_transaction():
        session.info.pop(_INFO_KEY, None)


# --- fetching ---------------------------------------------------------------------------------

def fetch(media_pk: int, kind: str = "ticket") -> None:
    """Job: download one photo into the evidence store (idempotent)."""
    fetch_one(media_pk, kind)


def fetch_one(media_pk: int, kind: str = "ticket") -> bool:
    """Download ``media_pk`` if it is not stored yet; return whether a copy is stored now."""
    rt = runtime.get()
    model, owner_column, folder = KINDS[kind]
    with session_scope(rt.config.DATABASE_URL) as s:
        media = s.get(model, media_pk)
        if media is None or not media.media_id:
            return False
        if media.stored_key:
            return True
        media_id, ticket_id = media.media_id, getattr(media, owner_column)
    try:
        resp = rt.wecom.raw("media/get", params={"media_id": media_id})
        data, content_type = resp.content, resp.headers.get("Content-Type", "").split(";")[0].strip()
        if not data:
            raise WeComError(-2, "empty media")
        digest = hashlib.sha256(data).hexdigest()[:16]
        key = f"{folder}/{ticket_id}/{media_pk}-{digest}.{EXTENSIONS.get(content_type, 'bin')}"
        store().put(key, data, content_type or "application/octet-stream")
    except Exception as exc:
        _failed(rt, media_pk, exc, kind)
        return False
    with session_scope(rt.config.DATABASE_URL) as s:
        media = s.get(model, media_pk)
        if media is not None and not media.stored_key:
            media.stored_key, media.content_type, media.stored_at = key, content_type or None, utcnow()
            media.next_fetch_at, media.fetch_error = None, None
            media.fetch_attempts += 1
    log.info("evidence stored media=%s %s=%s", media_pk, kind, ticket_id)
    return True


def _failed(rt, media_pk: int, exc: Exception, kind: str = "ticket") -> None:
    """Record a failed download; retry later with back-off, or stop if WeCom has lost it."""
    errcode = getattr(exc, "errcode", None)
    with session_scope(rt.config.DATABASE_URL) as s:
        media = s.get(KINDS[kind][0], media_pk)
        if media is None:
            return
        media.fetch_attempts += 1
        media.fetch_error = f"{type(exc).__name__}: {exc}"[:500]
        if errcode in GONE_ERRCODES or media.fetch_attempts > len(BACKOFF):
            media.next_fetch_at = None
            media.fetch_error = f"gone: {media.fetch_error}"[:500]
            log.error("evidence lost media=%s %s=%s errcode=%s", media_pk, kind,
                      getattr(media, KINDS[kind][1]), errcode)
        else:
            media.next_fetch_at = utcnow() + timedelta(seconds=BACKOFF[media.fetch_attempts - 1])
            log.warning("evidence fetch failed media=%s attempt=%s (%s); retry later", media_pk,
                        media.fetch_attempts, errcode if errcode is not None else type(exc).__name__)


def sweep_unstored(limit: int = SWEEP_BATCH) -> int:
    """Sweep step: enqueue the fetch of photos that are due (missed, or waiting for a retry)."""
    rt = runtime.get()
    due: list[tuple[str, int]] = []
    with session_scope(rt.config.DATABASE_URL) as s:
        for kind, (model, _, _) in KINDS.items():
            due += [(kind, pk) for pk in s.scalars(select(model.id).where(
                model.stored_key.is_(None), model.next_fetch_at <= utcnow())
                .order_by(model.next_fetch_at).limit(limit))]
    for kind, media_pk in due:
        rt.queue.enqueue("bot.evidence.fetch", media_pk, kind)
    return len(due)


def forget(media: TicketMedia | ApplicationMedia) -> None:
    """Delete a photo's durable copy (retention erasing an application's documents)."""
    if media.stored_key:
        try:
            store().delete(media.stored_key)
        except Exception as exc:   # the row goes anyway; the copy is reported for a person to remove
            log.error("evidence: could not delete a stored copy (%s)", type(exc).__name__)

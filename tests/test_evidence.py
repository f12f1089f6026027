"""Evidence that lasts: every ticket photo is copied out of WeCom (which keeps media 3 days) into
durable storage soon after it arrives, retried with back-off, and given up only when WeCom has lost it."""
from __future__ import annotations

import dataclasses
import io
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot import evidence
from bot.db import session_scope
from bot.models import TicketMedia
from bot.standin.api import MEDIA_LIFETIME
from bot.timeutil import utcnow
from tests.conftest import sweep_now
from tests.workbench_helpers import file_ticket

JPEG = b"\xff\xd8\xff\xe0" + b"lamp" * 50   # bytes to compare, not a picture (ids are this file's own)


@pytest.fixture
def config(config, tmp_path):
    return dataclasses.replace(config, QINGCHE_MEDIA_DIR=str(tmp_path / "media"))


def _media(config) -> list[TicketMedia]:
    with session_scope(config.DATABASE_URL) as s:
        return list(s.scalars(select(TicketMedia).order_by(TicketMedia.id)))


def test_photos_sent_in_chat_are_stored_soon_after(wecom, wecom_api, chat, config, tmp_path):
    wecom_api.register_media("MEDIA-EV-LAMP", JPEG)
    chat("chenayi", "楼下路灯坏了三天了")
    chat("chenayi", "1")
    wecom.image("chenayi", media_id="MEDIA-EV-LAMP", pic_url="http://pic.example/lamp.jpg")
    wecom.run()
    chat("chenayi", "确认")
    chat("liang.wg", "办结 #1 已换灯泡")
    wecom.image("liang.wg", media_id="MEDIA-EV-FIXED")
    wecom.run()
    stored = _media(config)
    assert [(m.kind, m.media_id) for m in stored] == [("photo", "MEDIA-EV-LAMP"), ("evidence", "MEDIA-EV-FIXED")]
    assert all(m.stored_key and m.stored_at for m in stored)
    assert (tmp_path / "media" / stored[0].stored_key).read_bytes() == JPEG
    assert sorted(c["payload"]["media_id"] for c in wecom_api.calls if c["path"] == "media/get") == [
        "MEDIA-EV-FIXED", "MEDIA-EV-LAMP"]


def test_transient_failures_are_retried_by_the_sweeper(app, wecom, wecom_api, config):
    wecom_api.fail("media/get", *["http500"] * 4)      # the client's own retries are used up once
    file_ticket(config.DATABASE_URL, "chenayi", "LG-01", "楼下路灯坏了", photos=[("MEDIA-1", "")])
    wecom.run()
    [m] = _media(config)
    assert m.stored_key is None and m.fetch_attempts == 1 and m.next_fetch_at > utcnow()
    with session_scope(config.DATABASE_URL) as s:        # the back-off has passed
        s.execute(update(TicketMedia).values(next_fetch_at=utcnow() - timedelta(seconds=1)))
    sweep_now()
    wecom.run()
    [m] = _media(config)
    assert m.stored_key and m.fetch_attempts == 2 and m.fetch_error is None


def test_media_wecom_has_dropped_is_given_up_not_retried(app, wecom, wecom_api, config):
    wecom_api.register_media("MEDIA-OLD", JPEG, at=wecom_api.now() - MEDIA_LIFETIME - 60)
    file_ticket(config.DATABASE_URL, "chenayi", "LG-01", "楼下路灯坏了", photos=[("MEDIA-OLD", "")])
    wecom.run()
    [m] = _media(config)
    assert m.stored_key is None and m.next_fetch_at is None and m.fetch_error.startswith("gone")
    assert evidence.sweep_unstored() == 0


def test_the_stand_in_expires_media_after_three_days(app, wecom, wecom_api, config):
    wecom_api.register_media("MEDIA-2", JPEG)
    wecom_api.clock_offset = MEDIA_LIFETIME + 1        # nobody fetched it in time
    file_ticket(config.DATABASE_URL, "chenayi", "LG-01", "楼下路灯坏了", photos=[("MEDIA-2", "")])
    wecom.run()
    [m] = _media(config)
    assert m.stored_key is None and "40007" in m.fetch_error


def test_a_stored_photo_is_fetched_once(app, wecom, wecom_api, config):
    file_ticket(config.DATABASE_URL, "chenayi", "LG-01", "楼下路灯坏了", photos=[("MEDIA-3", "")])
    wecom.run()
    [m] = _media(config)
    assert evidence.fetch_one(m.id) is True
    assert [c["payload"]["media_id"] for c in wecom_api.calls if c["path"] == "media/get"] == ["MEDIA-3"]


def test_s3_store_puts_and_gets_behind_the_same_interface():
    """Against botocore's stubber (no S3 server here): the calls and their parameters."""
    boto3 = pytest.importorskip("boto3")
    from botocore.response import StreamingBody
    from botocore.stub import Stubber

    client = boto3.client("s3", endpoint_url="http://minio.local:9000", aws_access_key_id="k",
                          aws_secret_access_key="s", region_name="us-east-1")
    store = evidence.S3Store("http://k:s@minio.local:9000/qingche-evidence", client=client)
    with Stubber(client) as stub:
        stub.add_response("put_object", {}, {"Bucket": "qingche-evidence", "Key": "tickets/1/1-ab.jpg",
                                             "Body": JPEG, "ContentType": "image/jpeg"})
        stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(JPEG), len(JPEG))},
                          {"Bucket": "qingche-evidence", "Key": "tickets/1/1-ab.jpg"})
        store.put("tickets/1/1-ab.jpg", JPEG, "image/jpeg")
        assert store.get("tickets/1/1-ab.jpg") == JPEG
        stub.assert_no_pending_responses()


def test_local_store_refuses_keys_outside_its_directory(tmp_path):
    store = evidence.LocalStore(str(tmp_path))
    with pytest.raises(ValueError):
        store.put("../escape.jpg", JPEG, "image/jpeg")


def test_application_photos_are_kept_and_deleted_with_the_application(chat, wecom, wecom_api, config, tmp_path):
    """ID cards and leases are copied out of WeCom like ticket photos, and the copies go when retention
    erases the application's documents."""
    from bot import retention
    from bot.models import ApplicationMedia
    from tests.test_applications_e2e import _apply_r1

    for media_id in ("photo-id-front", "photo-id-back", "photo-lease"):
        wecom_api.register_media(media_id, JPEG + media_id.encode())
    _apply_r1(chat, wecom, wecom_api)
    chat("chenayi", "确认")
    with session_scope(config.DATABASE_URL) as s:
        stored = [(m.media_id, m.stored_key) for m in s.scalars(select(ApplicationMedia).order_by(ApplicationMedia.id))]
    assert [m for m, _ in stored] == ["photo-id-front", "photo-id-back", "photo-lease"]
    assert all(key and key.startswith("applications/") for _, key in stored)
    files = [tmp_path / "media" / key for _, key in stored]
    assert files[2].read_bytes() == JPEG + b"photo-lease"
    chat("liang.wg", "核实 #A1 属实")
    chat("fang.lougang", "不予出具 #A1 租赁合同已过期")
    days = dataclasses.asdict(config)["QINGCHE_APPLICATION_DAYS"]
    assert retention.erase_applications(now=utcnow() + timedelta(days=days + 1)) == 1
    assert not any(f.exists() for f in files)

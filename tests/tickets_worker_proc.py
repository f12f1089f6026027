"""A real rq worker process for the ticket fault tests: it hangs at a chosen point so the
test can kill it with SIGKILL mid-job.

QINGCHE_TEST_HANG=filing: hang inside the filing transaction, after the ticket is written
and before the commit. QINGCHE_TEST_HANG=delivery: hang after WeCom accepted the grid
worker's push and before the outbox row is marked sent. The file named by
QINGCHE_TEST_MARK is written when the worker reaches that point.
"""
import os
import time

from rq import Queue, SimpleWorker

from bot import delivery, runtime
from bot.config import Config
from bot.queue import QUEUE_NAME
from bot.tickets import service


def _mark() -> None:
    with open(os.environ["QINGCHE_TEST_MARK"], "w") as f:
        f.write(str(os.getpid()))
    time.sleep(120)


def main() -> None:
    rt = runtime.init(Config.from_env())
    hang = os.environ["QINGCHE_TEST_HANG"]
    if hang == "filing":
        create = service.create_ticket

        def create_then_hang(*args, **kwargs):
            result = create(*args, **kwargs)
            _mark()
            return result

        service.create_ticket = create_then_hang
    else:
        send = delivery.SENDERS["app"]

        def send_then_hang(rt_, row):
            msgid = send(rt_, row)
            if row.msgtype == "text" and row.body.get("content", "").startswith("【新工单"):
                _mark()
            return msgid

        delivery.SENDERS["app"] = send_then_hang
    SimpleWorker([Queue(QUEUE_NAME, connection=rt.redis)], connection=rt.redis).work(burst=True)


if __name__ == "__main__":
    main()

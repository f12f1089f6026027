"""Messages from one person are answered in the order they arrived, even with several workers."""
import subprocess
import sys

from tests.conftest import config_env

QUESTIONS = [
    ("开居住证明要带什么", "居"),
    ("死亡证明去哪里开", "死亡"),
    ("无犯罪记录证明社区能开吗", "无犯罪"),
    ("取消", "没有进行中的操作"),
    ("出生证明在哪里办", "出生"),
    ("qwertyuiop", "没听懂"),
]


def test_one_persons_messages_in_order_with_two_workers(wecom, wecom_api, config):
    for text, _ in QUESTIONS:
        assert wecom.text("lisuk", text).status_code == 200
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "worker", "--workers", "2", "--burst"],
                          env=config_env(config), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    wecom.run()
    replies = wecom_api.texts_to("lisuk")
    assert len(replies) == len(QUESTIONS)
    for (question, expected), reply in zip(QUESTIONS, replies, strict=True):
        assert expected in reply, (question, reply)

"""A broken deadlines file stops the start and fails `qingche knowledge check`, naming the entry."""
import dataclasses
from datetime import timedelta

import pytest
from click.testing import CliRunner

from bot import create_app, runtime
from bot.cli import cli
from bot.errors import ConfigError
from bot.tickets.service import duration_text


def test_bad_sla_file_stops_the_app(config, tmp_path):
    bad = tmp_path / "sla.yaml"
    bad.write_text("default: {acknowledge: 2x, resolve: 1d}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="default.acknowledge"):
        create_app(dataclasses.replace(config, QINGCHE_SLA_FILE=str(bad)))
    runtime.reset()


def test_knowledge_check_covers_deadlines(tmp_path, monkeypatch):
    result = CliRunner().invoke(cli, ["knowledge", "check"])
    assert result.exit_code == 0, result.output
    assert "complaint categories" in result.output
    bad = tmp_path / "sla.yaml"
    bad.write_text("default: {acknowledge: 2x, resolve: 1d}\n", encoding="utf-8")
    monkeypatch.setenv("QINGCHE_SLA_FILE", str(bad))
    runtime.reset()
    result = CliRunner().invoke(cli, ["knowledge", "check"])
    assert result.exit_code == 1
    assert "default.acknowledge" in result.output


@pytest.mark.parametrize("span, text", [
    (timedelta(hours=24), "24小时"), (timedelta(days=7), "7天"), (timedelta(minutes=30), "30分钟"),
    (timedelta(seconds=45), "45秒"), (timedelta(hours=1, minutes=30), "1.5小时"),
])
def test_deadline_spans_read_naturally(span, text):
    assert duration_text(span) == text


def test_filed_reply_uses_the_sla_deadline(chat, app, tmp_path, monkeypatch):
    sla = tmp_path / "sla.yaml"
    sla.write_text("default: {acknowledge: 30m, resolve: 2d}\n", encoding="utf-8")
    runtime.get().config.QINGCHE_SLA_FILE = str(sla)
    chat("chenayi", "楼下路灯坏了三天了")
    chat("chenayi", "1")
    chat("chenayi", "没有")
    [filed] = chat("chenayi", "确认")
    assert "30分钟" in filed

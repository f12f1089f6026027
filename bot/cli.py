"""The ``qingche`` command: demo, worker, db, sweep (and knowledge, import, report when installed)."""
from __future__ import annotations

import logging
import sys

import click

from bot.config import Config
from bot.errors import ConfigError


def _config(require_wecom: bool = True, **overrides) -> Config:
    try:
        return Config.from_env(require_wecom=require_wecom, **overrides)
    except ConfigError as exc:
        click.echo(f"配置错误 / configuration error: {exc}", err=True)
        sys.exit(2)


@click.group()
def cli() -> None:
    """轻车 Qingche: the WeCom bot for village and community services."""


@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations to DATABASE_URL."""
    from bot.migrate import upgrade

    config = _config(require_wecom=False)
    upgrade(config.DATABASE_URL, revision)
    click.echo("database is up to date")


@db.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (maintainers)."""
    from bot.migrate import revision

    revision(_config(require_wecom=False).DATABASE_URL, message)


@cli.command()
@click.option("--workers", default=1, show_default=True, help="worker processes")
@click.option("--burst", is_flag=True, help="exit when the queue is empty")
def worker(workers: int, burst: bool) -> None:
    """Run rq workers (with rq's scheduler and the sweeper) on REDIS_URL."""
    from bot.worker import main as worker_main

    _config()
    worker_main(workers=workers, burst=burst)


@cli.command()
def sweep() -> None:
    """Re-enqueue anything recorded but not processed, once."""
    from bot import runtime
    from bot.jobs import sweep as do_sweep

    runtime.init(_config())
    click.echo(do_sweep())


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
def demo(host: str, port: int) -> None:
    """Run everything in one process on SQLite with a local WeCom stand-in; open /sim."""
    from bot.demo import build

    try:
        app = build(port)
    except ConfigError as exc:
        click.echo(f"配置错误 / configuration error: {exc}", err=True)
        sys.exit(2)
    config = app.config["QINGCHE"]
    click.echo(f"\n  轻车演示已启动：打开 http://{host}:{port}/sim 选择用户开始聊天\n"
               f"  Qingche demo: open http://{host}:{port}/sim (database: {config.DATABASE_URL})\n")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app.run(host=host, port=port, threaded=True, use_reloader=False)


def _env(name: str) -> str:
    import os

    return os.environ.get(name, "")


def _add_optional_commands() -> None:
    for module, attr in (("bot.cli_knowledge", "knowledge"), ("bot.cli_import", "import_group"),
                         ("bot.cli_report", "report")):
        try:
            mod = __import__(module, fromlist=[attr])
        except ImportError:
            continue
        cli.add_command(getattr(mod, attr))


_add_optional_commands()


def main() -> None:
    """Console entry point."""
    cli(prog_name="qingche")


if __name__ == "__main__":
    main()

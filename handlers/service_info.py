"""Questions about the service itself: who my grid worker is, how long a report takes, how to follow it.

Answered from the roster (the sender's patch, or a village or patch the message names) and from the
deadlines in ``knowledge/sla.yaml`` and ``knowledge/categories.yaml``.
"""
from __future__ import annotations

from sqlalchemy import select

from bot import sla
from bot.models import Patch
from bot.tickets import routing, service
from bot.tickets.words import has_any, plain, words
from handlers.base import Handler, Message

# what the learned scorer reads (knowledge/examples/questions_*.yaml) when the words of ticket_words.yaml are not used
TOPICS = ("META_GRID", "META_DEADLINE")


def _asks_grid(text: str) -> bool:
    return has_any(plain(text), words().meta_grid)


def _who_fixes_a_thing(text: str) -> bool:
    """"村口盏路灯边个负责，坏咗成个礼拜": who is in charge of a broken thing, not of the patch. The
    resident wants it fixed, so it is a report (the complaint intake takes it); asking for the grid worker
    by name (网格员) stays a question about the service."""
    from bot.tickets import categories

    return "网格" not in plain(text) and not _asks_deadline(text) and categories.classify(text) is not None


def _asks_deadline(text: str) -> bool:
    p = plain(text)
    w = words()
    return has_any(p, w.meta_deadline) and has_any(p, w.meta_deadline_about)


PROGRESS = ("进度", "进展", "跟进", "搞成点", "处理成点", "点样了", "怎么样了")
PROGRESS_MAX = 10   # characters: "查下进度" on its own, from someone who has reported something


def _asks_own_progress(ctx, text: str) -> bool:
    """"查下进度", "有冇进展": short, about progress, from a resident with tickets (which else?)."""
    p = plain(text)
    return (len(p) <= PROGRESS_MAX and has_any(p, PROGRESS)
            and bool(service.tickets_of_resident(ctx.session, ctx.user_id, limit=1)))


class ServiceQuestions(Handler):
    """我们小区的网格员是谁 / 投诉多久有回复 / 怎么查进度."""

    name = "service_info"

    def check(self, msg: Message, ctx) -> bool:
        if not msg.is_text or len(msg.text) > 80:
            return False
        from handlers.certificate import cached_match

        result = cached_match(msg.text)
        if _asks_own_progress(ctx, msg.text) and result.outcome != "confident":
            return True
        if not (_asks_grid(msg.text) or _asks_deadline(msg.text) or result.topic in TOPICS):
            return False
        if _who_fixes_a_thing(msg.text) and result.topic != "META_GRID":
            return False
        # "开居住证明要网格员上门吗" is about the certificate, not about who the grid worker is
        return result.outcome != "confident"

    def handle(self, msg: Message, ctx) -> None:
        from handlers.certificate import cached_match

        topic = cached_match(msg.text).topic
        if _asks_grid(msg.text) or (topic == "META_GRID" and not _asks_deadline(msg.text)):
            ctx.reply(self._grid(ctx, msg.text))
        else:
            ctx.reply(self._deadline(ctx))

    def _grid(self, ctx, text: str) -> str:
        patches: list[Patch] = []
        found = routing.patch_by_keywords(ctx.session, text)
        if found:
            patches = [found[0]]
        else:
            village = routing.village_by_text(ctx.session, text) or routing.village_by_core(ctx.session, text)
            if village:
                patches = list(ctx.session.scalars(select(Patch).where(Patch.village == village[0]).order_by(Patch.code)))
            elif ctx.person is not None and ctx.person.patch:
                patches = list(ctx.session.scalars(select(Patch).where(Patch.code == ctx.person.patch)))
        if not patches:
            return ctx.t("service.grid_where")
        lines = []
        for patch in patches:
            worker = routing.grid_worker_for(ctx.session, patch.code)
            if worker is None:
                lines.append(ctx.t("service.grid_none", patch=patch.name))
            else:
                lines.append(ctx.t("service.grid_line", patch=patch.name, name=worker.name,
                                   kind=worker.kind or "", mobile=worker.mobile or ctx.t("tickets.phone_unknown")))
        return ctx.t("service.grid", lines="\n".join(lines))

    def _deadline(self, ctx) -> str:
        limits = sla.load().default
        resolve = limits.resolve
        resolve_text = (ctx.t("service.working_days", days=resolve.days) if isinstance(resolve, sla.WorkingDays)
                        else service.duration_text(resolve))
        text = ctx.t("service.deadline", acknowledge=service.duration_text(limits.acknowledge), resolve=resolve_text)
        mine = [tk for tk in service.tickets_of_resident(ctx.session, ctx.user_id, limit=3)]
        if mine:
            text += "\n" + "\n".join(ctx.t("service.deadline_mine", number=tk.number, category=tk.service_name,
                                           status=service.status_name(tk.status),
                                           expected=service.expected_text(tk)) for tk in mine)
        return text

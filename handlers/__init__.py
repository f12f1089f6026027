"""The ordered handler registry: the first handler whose ``check`` passes answers.

Order: message types we cannot read, explicit commands, an active conversation,
greetings and help, questions, then the fallback.
"""
from __future__ import annotations

from bot.context import Context
from handlers.applications import ApplicationCardClick, ApplicationCommands
from handlers.base import Handler, Message
from handlers.basic import Acknowledgement, ActiveConversation, Cancel, Fallback, Help, InvalidInput, Unsupported
from handlers.cadre import CadreCommands
from handlers.certificate import CertificateQuestion
from handlers.complaint import ComplaintIntake
from handlers.kf import KfSession, KfSync, TellVillage
from handlers.person import AskForPerson
from handlers.service_info import ServiceQuestions
from handlers.teach import TeachCommands
from handlers.tickets import RatingReply, TicketCardClick, TicketCommands
from handlers.visits import VisitCommands
from handlers.waiting import AskResident, ResidentAnswer
from handlers.whistle import WhistleCommands

REGISTRY: list[Handler] = [
    KfSync(),
    KfSession(),
    InvalidInput(),      # a value WeCom sent that cannot be right: a clear reply, the draft kept
    TicketCardClick(),  # a card button click is an event: it must come before Unsupported
    ApplicationCardClick(),  # 通过 / 退回补充 / 不予出具, 属实 / 不符 on an application's card
    Unsupported(),
    Cancel(),
    # explicit commands (grid worker, cadre) go here
    ApplicationCommands(),  # #A12 commands, 我的申请, "我要开居住证明": before the ticket and cadre commands
    CadreCommands(),     # before TicketCommands: a cadre's 查询 #n shows the cadre's view
    TeachCommands(),     # 教 #12 居住证明: what an unanswered question meant, for the cadre's jurisdiction
    WhistleCommands(),   # before TicketCommands: a liaison's 办结 #n on a whistled ticket
    VisitCommands(),     # 走访, 转工单, 到场 #n, 专项 #n, 代报; a grid worker's location on a must-attend
                         # ticket (before ComplaintIntake, which would take any location)
    AskResident(),
    TicketCommands(),
    RatingReply(),
    ResidentAnswer(),    # the resident's answer while their ticket waits for them
    ActiveConversation(),
    TellVillage(),
    Help(),
    Acknowledgement(),   # 谢谢 / 收到 / 好的 after a reply: answered, never forwarded as a question
    AskForPerson(),      # 转人工: the next message goes to a person (人工 is also a wage: before the intake)
    ServiceQuestions(),  # about the service itself: who is my grid worker, how long does a report take
    # questions (certificate catalogue) and complaint intake go here
    CertificateQuestion(),
    ComplaintIntake(),
    Fallback(),
]


def owner_of(state_name: str) -> Handler | None:
    """The handler that owns a conversation state."""
    for handler in REGISTRY:
        if state_name in handler.states:
            return handler
    return None


def route(msg: Message, ctx: Context) -> str:
    """Give ``msg`` to the first handler that takes it; return that handler's name."""
    for handler in REGISTRY:
        if handler.check(msg, ctx):
            handler.handle(msg, ctx)
            return handler.name
    return ""

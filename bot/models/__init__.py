"""All tables. Import models from here so that ``Base.metadata`` knows every one."""
from bot.models.applications import Application, ApplicationEscalation, ApplicationEvent, ApplicationMedia
from bot.models.base import Base
from bot.models.catalogue import CatalogueMiss, TaughtPhrase
from bot.models.kf import KfCursor, KfCustomer
from bot.models.messaging import ConversationState, InboundMessage, Outbox
from bot.models.oversight import CadreAlert, CadrePushState, DigestSent, TicketEscalation, Whistle
from bot.models.people import ROLES, Patch, Person
from bot.models.tickets import Ticket, TicketEvent, TicketFollower, TicketMedia
from bot.visits.models import Household, Visit, VisitReminderSent  # noqa: E402  (四必访)

__all__ = ["Application", "ApplicationEscalation", "ApplicationEvent", "ApplicationMedia", "Base", "CadreAlert", "CadrePushState", "CatalogueMiss", "ConversationState", "DigestSent",
           "InboundMessage", "KfCursor", "KfCustomer", "Outbox", "Patch", "Person", "ROLES", "Ticket",
           "TaughtPhrase", "TicketEscalation", "TicketEvent", "TicketFollower", "TicketMedia", "Whistle",
           "Household", "Visit", "VisitReminderSent"]

"""All tables. Import models from here so that ``Base.metadata`` knows every one."""
from bot.models.applications import Application, ApplicationEscalation, ApplicationEvent, ApplicationMedia
from bot.models.base import Base
from bot.models.catalogue import CatalogueMiss
from bot.models.kf import KfCursor, KfCustomer
from bot.models.messaging import ConversationState, InboundMessage, Outbox
from bot.models.oversight import CadreAlert, CadrePushState, DigestSent, TicketEscalation, Whistle
from bot.models.people import ROLES, Patch, Person
from bot.models.tickets import Ticket, TicketEvent, TicketFollower, TicketMedia

__all__ = ["Application", "ApplicationEscalation", "ApplicationEvent", "ApplicationMedia", "Base", "CadreAlert", "CadrePushState", "CatalogueMiss", "ConversationState", "DigestSent",
           "InboundMessage", "KfCursor", "KfCustomer", "Outbox", "Patch", "Person", "ROLES", "Ticket",
           "TicketEscalation", "TicketEvent", "TicketFollower", "TicketMedia", "Whistle"]

"""Tickets: categories, routing, the state machine and the service that changes them."""

"""Applying in chat for a certificate the committee still issues (一次办成).

``fields`` reads and checks the answers, ``states`` is the status table, ``service`` makes every
change and returns the notices to send, ``documents`` fills the Word template, ``deadlines`` is the
sweep step for reminders and escalation, ``register`` is the 出具证明登记台账 (``qingche report
applications``), ``summary`` the lines for the digest and 今日.
"""

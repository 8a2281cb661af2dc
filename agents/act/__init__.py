"""Actions: e-mail, signed webhooks, HTTP and CRM calls, delivered through the tenant outbox.

A step renders its message and writes one outbox row in the transaction that completes
it (`outbox.py`); the dispatcher (`dispatcher.py`) delivers rows from the queue with the
Svix retry schedule (`schedule.py`); every outbound socket goes through the egress guard
(`egress.py`).
"""

"""The account and tenant rules, shared by the API, the UI backend and the CLI.

Each function checks its rule, does the work and writes the audit entry, so the three
front ends cannot drift apart. Callers pass who acts (`Actor`); permission checks (is the
caller an owner here?) stay with the front end, which knows how the caller signed in.
"""

from app.operations.actor import Actor

__all__ = ["Actor"]

"""Accounts and access: password hashing, tokens, sessions, the tenant guard."""

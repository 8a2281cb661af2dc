"""Composition root: settings, server assembly, API controllers, auth and the CLI."""

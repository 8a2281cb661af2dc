"""Workflow supervisor: definitions, the step registry and the durable run engine."""

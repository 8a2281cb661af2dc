"""Agents: ingest, analyze (RAG), report, act, supervisor, and the LLM service."""

"""Tests of the analysis agent: retrieval fusion, answers that stay grounded."""

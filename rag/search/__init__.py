"""Hybrid retrieval over the store."""

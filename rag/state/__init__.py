"""Shared state (SQLite or PostgreSQL): claims, answers, logins, feedback, conversations."""

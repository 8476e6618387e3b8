"""Settings, types, errors and the small utilities every layer uses (text, locks, logs, tracing)."""

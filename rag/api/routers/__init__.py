"""The API's routes, one module per area; `rag/api/app.py` puts them behind the right token."""

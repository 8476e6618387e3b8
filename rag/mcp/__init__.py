"""The MCP face: the assistant's tools (`search`, `ask`, `list_collections`) and documents for MCP
clients, over stdio (`rag mcp`, rag/mcp/stdio.py) and streamable HTTP at `/mcp` on `rag serve`
(rag/mcp/http.py), under the API's tokens and collection grants."""

"""The vector store (Chroma), the embedding model and the lexical (BM25) index."""

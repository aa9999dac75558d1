"""Search: query parsing, BM25 fields and formula, fusion, embeddings, retrieval, citations."""

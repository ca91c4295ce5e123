"""Search indexes over lines: transcriptions (n-grams + CTC rerank) and embeddings."""

"""Line indexes and search: transcriptions (n-grams + CTC rerank) and FAISS embeddings (both
modalities) with provenance."""

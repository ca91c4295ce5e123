"""Line index and search: FAISS indexes over line embeddings (both modalities) with provenance."""

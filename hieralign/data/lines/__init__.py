"""Line data: synthetic lines (text sources, real Tibetan faces, scan damage), JSONL manifests,
deterministic line preprocessing, line stores, in-memory line sets and batches."""

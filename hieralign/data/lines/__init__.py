"""Line data: JSONL manifests, deterministic line preprocessing, in-memory line sets and batches."""

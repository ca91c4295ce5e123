"""Synthetic line data: text sources, rendering with real Tibetan faces, scan-like damage."""

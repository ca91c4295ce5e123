"""Glyph data: fonts and their roles, rendering, augmentation, synthetic handwriting, the
memory-mapped glyph store, readers of ETL9G/ETL8G/CASIA/seed data, and the `data` CLIs."""

"""Models: `hieralign.models.char` holds the zero-shot character recognisers (HierCode, Hi-GITA)."""

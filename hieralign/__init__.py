"""hieralign: align images of writing with descriptions of what is written.

Characters (CJK) are recognised zero-shot from their radical/stroke decompositions
(HierCode, Hi-GITA); text lines (Tibetan first) are searched with a CLIP-style dual encoder.
The core library imports with torch + numpy + Pillow only; heavier parts live behind extras.
"""

__version__ = "0.1.0"

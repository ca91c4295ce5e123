"""Evaluation of the character models (`hieralign eval char`)."""

"""Training of the character models (`hieralign train char`): one accelerate-based trainer."""

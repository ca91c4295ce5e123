"""Small shared helpers: atomic files, self-describing checkpoints, seeding, progress bars."""

"""Checks before a change (preflight) and after it (verification), on the snapshot, AWS and the
network; they change nothing."""

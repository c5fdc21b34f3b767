"""Who changed what, when, from which request."""

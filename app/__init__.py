"""Campaign tracker: the organisation department's service for the education campaign."""

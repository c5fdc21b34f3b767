"""The reports the organisation department runs the campaign by."""

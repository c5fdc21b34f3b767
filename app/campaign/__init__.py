"""The campaign, its batches and phases, and each unit's way through them."""

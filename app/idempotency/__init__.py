"""Idempotency-Key: a retried creating POST answers what the first one answered."""

"""Study sessions, attendance and the per-member running totals reports read."""

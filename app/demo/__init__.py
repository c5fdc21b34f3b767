"""Demo data: the campaign's first batch (or a scaled copy), generated and bulk-written."""

from app.demo.seed import CHUNK_SIZE, DEFAULT_SEED, DemoResult, Progress, seed_demo
from app.demo.shares import SHARES, Sizes

__all__ = ["CHUNK_SIZE", "DEFAULT_SEED", "SHARES", "DemoResult", "Progress", "Sizes", "seed_demo"]

"""Time spent making rows, apart from writing them (DemoResult.generate_seconds)."""

from collections.abc import Iterator
from time import perf_counter
from typing import Generic, TypeVar

T = TypeVar("T")


class Timed(Iterator[T], Generic[T]):
    """Wraps an iterator and adds up the time spent inside it."""

    def __init__(self, inner: Iterator[T]) -> None:
        self.inner = inner
        self.seconds = 0.0

    def __iter__(self) -> "Timed[T]":
        return self

    def __next__(self) -> T:
        started = perf_counter()
        try:
            return next(self.inner)
        finally:
            self.seconds += perf_counter() - started

"""Tenon demo: the cursor sits under a docstring; Tenon writes the body."""


def fibonacci(n: int) -> int:
    """Return the n-th Fibonacci number: fibonacci(0) == 0, fibonacci(1) == 1."""
    
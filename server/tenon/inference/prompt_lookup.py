"""Drafting the next tokens from the context itself (prompt lookup), for greedy decoding.

Code repeats itself: a name, an argument list, a line shape seen above the cursor. When the
last few tokens occurred earlier in the prompt or the output, the tokens that followed them
there are a good guess at what comes next. The engine feeds such a draft together with the
token it just chose, in one pass of the graph that scores every position, and keeps the
drafted tokens the model would have chosen itself, up to the first it would not. A decode
step on a CPU is bound by reading the weights, not by arithmetic, so scoring a few more
positions costs little and each accepted token saves a whole step.

:class:`Lookup` keeps, for n-grams of ``longest`` down to ``shortest`` tokens, the latest
position each one occurred at with a token after it, so a draft costs a few dictionary
lookups whatever the context's length.
"""

from __future__ import annotations

from collections.abc import Sequence

LONGEST = 3  # the n-gram matched first
SHORTEST = 1  # the shortest n-gram a draft may follow


class Lookup:
    """The context seen so far (prompt, then generated tokens) and its n-gram index."""

    def __init__(self, context: Sequence[int], longest: int = LONGEST,
                 shortest: int = SHORTEST) -> None:
        if not 1 <= shortest <= longest:
            raise ValueError(f"n-gram sizes must satisfy 1 <= {shortest} <= {longest}")
        self.sizes = range(longest, shortest - 1, -1)
        self.tokens: list[int] = []
        self._latest: dict[tuple[int, ...], int] = {}  # n-gram → where it last started
        for token in context:
            self.append(token)

    def append(self, token: int) -> None:
        """Add a token; every n-gram ending just before it now has a follower."""
        self.tokens.append(token)
        end = len(self.tokens) - 1
        for n in self.sizes:
            if end >= n:
                self._latest[tuple(self.tokens[end - n:end])] = end - n

    def draft(self, count: int) -> list[int]:
        """Up to ``count`` tokens that followed the latest earlier occurrence of the context's
        longest matching tail; empty when no tail of ``shortest`` tokens occurred before."""
        if count <= 0:
            return []
        for n in self.sizes:
            if len(self.tokens) <= n:
                continue
            start = self._latest.get(tuple(self.tokens[-n:]))
            if start is not None:
                return self.tokens[start + n:start + n + count]
        return []


"""Stopping a local generation that has fallen into a loop.

A small model at low temperature sometimes repeats one stretch of tokens until ``max_tokens``:
``'FizzBuzz', 'FizzBuzz', ...`` for 3,000 tokens, or the same paragraph again and again. On a
laptop that is minutes of a dialogue spent on text nobody reads. A generation whose last
tokens are one block repeated (at least ``min_repeats`` times, over at least ``min_span``
tokens) is ended there; the reply keeps what was written, and its ``finish_reason`` is
``length``, as for a reply cut by ``max_tokens``.

Code repeats itself legitimately (``[0, 0, 0]``, two equal lines), so the span is long:
128 tokens is about 30 copies of ``, 'Fizz'`` or three copies of a 40-token line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Longest repeated block looked for, in tokens (a paragraph).
MAX_PERIOD = 256
#: Look for a loop once every this many generated tokens.
CHECK_EVERY = 8


@dataclass(frozen=True)
class LoopDetector:
    """Says whether generated tokens end in a loop.

    Attributes:
        min_span: Tokens the repeated stretch must cover.
        min_repeats: Copies of the block it must hold.
        max_period: Longest block looked for.
    """

    min_span: int = 128
    min_repeats: int = 3
    max_period: int = MAX_PERIOD

    @property
    def window(self) -> int:
        """How many of the last tokens :meth:`looping` needs to see."""
        return max(self.min_span, self.max_period * self.min_repeats)

    def looping(self, tokens: Sequence[int]) -> bool:
        """Whether ``tokens`` (the generated ones, oldest first) end in a repeated block.

        Example:
            >>> LoopDetector(min_span=12).looping([7, 1, 2, 3] + [4, 5] * 6)
            True
            >>> LoopDetector(min_span=12).looping([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
            False
        """
        tokens = list(tokens[-self.window :])
        n = len(tokens)
        for period in range(1, min(self.max_period, n // self.min_repeats) + 1):
            if tokens[-1] != tokens[-1 - period]:
                continue
            span = period * max(self.min_repeats, math.ceil(self.min_span / period))
            if span > n:
                continue
            tail = tokens[n - span :]
            if tail[period:] == tail[:-period]:
                return True
        return False


class LoopStop:
    """A llama-cpp-python logits processor that ends the generation when it loops.

    It forces an end-of-generation token once :class:`LoopDetector` sees a loop; ``fired``
    says whether it did. Use one per generation: the first call marks where the prompt ends.
    """

    def __init__(self, detector: LoopDetector, end_token: int) -> None:
        self.detector = detector
        self.end_token = end_token
        self.fired = False
        self._prompt_length: int | None = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self._prompt_length is None:
            self._prompt_length = len(input_ids)
        generated = len(input_ids) - self._prompt_length
        if not self.fired and generated >= self.detector.min_span and generated % CHECK_EVERY == 0:
            start = max(self._prompt_length, len(input_ids) - self.detector.window)
            self.fired = self.detector.looping(input_ids[start:].tolist())
        if self.fired:
            scores[:] = -math.inf
            scores[self.end_token] = 0.0
        return scores


def loop_detector(config: Any) -> LoopDetector | None:
    """The detector a config entry asks for with ``loop_stop_tokens`` (its ``min_span``; 0 or absent: none)."""
    span = int(config.get("loop_stop_tokens") or 0)
    return LoopDetector(min_span=span) if span > 0 else None

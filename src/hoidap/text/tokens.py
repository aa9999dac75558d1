"""A sentence read token by token: the tokens of ``normalize.tokenize`` with the text
between them. The stages that read tokens in context (answer extraction, figures,
entities) build their per-sentence records on it."""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from typing import Any

from hoidap.text.normalize import Token


@dataclass
class TokenSentence:
    text: str
    toks: Sequence[Token]

    def __len__(self) -> int:
        return len(self.toks)

    def gap(self, i: int) -> str:
        """The characters before token ``i`` (after token ``i - 1``; the text's edges at 0 and n)."""
        a = self.toks[i - 1].end if i > 0 else 0
        b = self.toks[i].start if i < len(self.toks) else len(self.text)
        return self.text[a:b]

    def raw(self, i: int) -> str:
        return self.text[self.toks[i].start : self.toks[i].end]

    def norm(self, i: int) -> str:
        return self.toks[i].norm if 0 <= i < len(self.toks) else ""

    def longest_entry(self, i: int, keys: Container[Any], firsts: Container[str], broken: Sequence[bool],
                      longest: int, key: Callable[[int, int], Any]) -> int:
        """Length (in tokens) of the longest entry of ``keys`` starting at token ``i``, 0 if none.

        ``key(i, j)`` is the entry tokens ``i..j-1`` would be (a tuple of norms, a joined
        phrase); ``firsts`` the entries' first words (a cheap refusal); an entry never
        crosses a break (``broken[k]``: one lies before token ``k``).
        """
        if i >= len(self.toks) or self.toks[i].norm not in firsts:
            return 0
        for n in range(min(longest, len(self.toks) - i), 0, -1):
            if any(broken[k] for k in range(i + 1, i + n)):
                continue
            if key(i, i + n) in keys:
                return n
        return 0

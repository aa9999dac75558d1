"""How many sentences the server's reader reads for a question, so that questions keep a latency
budget under a flood of them ("brownout", Klein et al., ICSE 2014: optional work is left out
while a server is saturated, and done again as soon as it is not).

The trained reader reads the ranker's best ``Settings.read_sentences`` sentences of the chosen
article (3: the best answers; ``qa/answer.py``). A question that finds no other queued for the
reader processes is read fully. One that does waits for those before it, shared among the
readers, then for its own reading; the dimmer reads it as fully as that sum allows within
``Settings.latency_budget_ms`` (2 sentences, then 1: a question of the load test took 41, 33
and 27 ms of CPU at 3, 2 and 1 on one thread, 22,644 articles). The cost of each depth is the
mean (exponentially weighted) of the seconds the readers took for it lately, so it follows what
the CPU gives them (an upload running, other programs); a depth never measured yet is tried.
The answers read at a smaller depth are counted in ``/metrics``
(``hoidap_questions_dimmed_total``).
"""

from __future__ import annotations

import threading

# Weight of the newest measurement in a depth's mean cost: the last ~10 questions count, so the
# dimmer follows an upload starting or ending within a second at 20 questions a second.
SMOOTHING = 0.2


class Dimmer:
    """The reading depth for the next question, from the questions waiting and the costs seen."""

    def __init__(self, full: int, readers: int, budget_s: float | None) -> None:
        self.full, self.readers, self.budget_s = max(1, full), max(1, readers), budget_s
        self._cost: dict[int, float] = {}  # depth -> mean seconds a question took in a reader
        self._lock = threading.Lock()

    def depth(self, waiting: int) -> int:
        """Sentences to read for a question with ``waiting`` questions queued before it."""
        if self.budget_s is None or waiting == 0:
            # Nothing queued: read fully, which also measures the full depth again (a depth the
            # dimmer stopped choosing would otherwise keep the cost it had then: the first
            # question of a process, which loads the model, takes ten times the others).
            return self.full
        turns = waiting / self.readers + 1  # its share of the queue ahead, then its own reading
        with self._lock:
            for depth in range(self.full, 1, -1):
                cost = self._cost.get(depth)
                if cost is None or turns * cost <= self.budget_s:
                    return depth
        return 1

    def observe(self, depth: int, seconds: float) -> None:
        """A question read at ``depth`` took ``seconds`` in its reader."""
        with self._lock:
            old = self._cost.get(depth)
            self._cost[depth] = seconds if old is None else old + SMOOTHING * (seconds - old)

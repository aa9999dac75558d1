"""One settings object with documented defaults.

Every tunable the engine reads lives here; tuned constants of a single stage
stay at the top of that stage's module with a note on how they were chosen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

ENV_INDEX = "HOIDAP_INDEX"


def default_index_dir() -> Path:
    """``$HOIDAP_INDEX``, else the per-user data directory (``~/.local/share/hoidap/index``)."""
    env = os.environ.get(ENV_INDEX)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("hoidap", appauthor=False)) / "index"


@dataclass(frozen=True)
class Settings:
    """Engine settings. Build with keyword arguments; ``with_(...)`` returns a changed copy."""

    # Where the embedded index lives: one directory holding hoidap.sqlite and keyword/.
    index_dir: Path = field(default_factory=default_index_dir)
    # Files larger than this are refused with a clear message (JSONL: per line).
    # 16 MiB is ~30x the largest news page in ../shared/eval; bigger is almost
    # always a dump or a binary that slipped through.
    max_file_bytes: int = 16 * 1024 * 1024
    # Articles written per SQLite transaction: a killed ingest loses at most
    # one batch, and larger batches stop paying off past a few dozen.
    batch_size: int = 64
    # How many sentences retrieval hands to answer extraction.
    top_sentences: int = 20
    # Citations shown per answer (near-duplicates of a cited sentence are
    # added as extra sources of the same citation group).
    max_citations: int = 5
    # Below this confidence the answer is None ("not found"). Chosen by asking
    # ViNewsQA and ViQuAD questions of their own collection (answerable) and of
    # each other's (off-topic): at 0.25, 95% / 90% of on-topic questions are
    # answered and 75% / 84% of off-topic ones abstain (balanced accuracy
    # 0.858; the peak, 0.872 at 0.30, gives up 5 points of answered news).
    min_confidence: float = 0.25
    # Questions longer than this are refused (a pasted article is not a question).
    max_question_chars: int = 1000

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

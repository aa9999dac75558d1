"""Files written so that another process (or a later run after a crash) never reads them half-written."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> None:
    """``path`` holds ``text`` whole or keeps what it held: written beside it under a name of this
    process's own (two writers never share one) and renamed over it."""
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)

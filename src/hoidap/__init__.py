"""hoidap: Vietnamese news question answering with cited evidence."""

from hoidap.errors import HoidapError
from hoidap.models import Answer, Article, Citation, DocumentInfo, Hit, IngestReport, Sentence

__all__ = [
    "Answer",
    "Article",
    "Citation",
    "DocumentInfo",
    "Engine",
    "HoidapError",
    "Hit",
    "IngestReport",
    "Sentence",
    "Settings",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Engine pulls in tantivy and SQLite; keep `import hoidap` light for tools that only need types.
    if name == "Engine":
        from hoidap.engine import Engine

        return Engine
    if name == "Settings":
        from hoidap.settings import Settings

        return Settings
    raise AttributeError(name)

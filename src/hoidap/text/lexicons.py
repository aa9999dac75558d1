"""The word lists the stages read: the figure lexicon (``data/facts_lexicon.json``) and the
entity gazetteer (``data/entities_gazetteer.json``), folded for matching."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from hoidap.shipped import data_json
from hoidap.text.normalize import fold_token, tokenize


@dataclass(frozen=True)
class Lexicon:
    """The word lists of ``data/facts_lexicon.json``, folded for matching."""

    scales: dict[str, float]
    currencies: dict[str, str]
    measures: frozenset[str]
    qualifiers: dict[str, str]
    comparatives: frozenset[str]
    temporal: tuple[tuple[str, ...], ...]
    vague: dict[str, float]
    label_words: frozenset[str]
    date_words: frozenset[str]
    np_stop: frozenset[str]
    np_stop_keep_first: frozenset[str]
    np_start_stop: frozenset[str]  # words that cannot start a counted noun ("1 số" is "một số")
    closed_units: frozenset[str]  # time units: the phrase ends there ("26 tuổi")
    time_of_day: frozenset[str]  # "7 giờ sáng", "7 giờ 23 phút" are clock times
    clock_words: frozenset[str]  # "lúc 20 giờ", "đến hơn 20 giờ": clock times too
    classifiers: frozenset[str]  # "chiếc", "con", ...: the head of "8 chiếc xe"
    linking: frozenset[str]  # verbs and adverbs between a subject and its money/percent figure
    measure_nouns: frozenset[str]  # what a money/percent figure can measure ("kim ngạch", "tỷ lệ")
    subject_verbs: frozenset[str]
    head_nouns: frozenset[str]
    noun_class: dict[str, str]
    synonyms: dict[str, str]
    generic: frozenset[str]
    longest: int  # the longest multi-syllable entry, in syllables


def fold_phrase(p: str) -> str:
    return " ".join(fold_token(w) for w in p.split())


def function_words(name: str) -> tuple[str, ...]:
    """One list of ``data/function_words.json`` (``question_phrases``, ``alignment_stopwords``,
    ``topic_stopwords``), as written; each stage folds it as it matches."""
    return tuple(data_json("function_words.json")[name]["words"])


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    raw = data_json("facts_lexicon.json")
    f = fold_phrase

    def words(key: str) -> frozenset[str]:
        return frozenset(f(w) for w in raw[key])

    classes = {f(n): cls for cls, nouns in raw["noun_classes"].items() for n in nouns}
    entries = [*raw["scales"], *raw["currencies"], *raw["measures"], *raw["qualifiers"],
               *raw["vague"], *raw["label_words"], *raw["np_stop"], *raw["head_nouns"]]
    return Lexicon(
        scales={f(k): float(v) for k, v in raw["scales"].items()},
        currencies={f(k): v for k, v in raw["currencies"].items()},
        measures=words("measures"),
        qualifiers={f(k): v for k, v in raw["qualifiers"].items()},
        comparatives=words("comparatives"),
        temporal=tuple(tuple(f(p).split()) for p in raw["temporal_qualifiers"]),
        vague={f(k): float(v) for k, v in raw["vague"].items()},
        label_words=words("label_words"),
        date_words=words("date_words"),
        np_stop=words("np_stop"),
        np_stop_keep_first=words("np_stop_keep_first"),
        np_start_stop=words("np_start_stop"),
        closed_units=words("closed_units"),
        time_of_day=words("time_of_day"),
        clock_words=words("clock_words"),
        classifiers=words("classifiers"),
        linking=words("linking"),
        measure_nouns=words("measure_nouns"),
        subject_verbs=words("subject_verbs"),
        head_nouns=words("head_nouns"),
        noun_class=classes,
        synonyms={f(k): f(v) for k, v in raw["synonyms"].items()},
        generic=words("generic_context"),
        longest=max(len(e.split()) for e in entries),
    )


def synonymised(words: list[str], lex: Lexicon) -> list[str]:
    """Folded words with multi-word synonyms replaced ("vaccine" -> "vắc xin")."""
    text = " ".join(words)
    for k, v in lex.synonyms.items():
        if k in text:
            text = re.sub(rf"(?<!\S){re.escape(k)}(?!\S)", v, text)
    return text.split()


# -- the entity gazetteer (data/entities_gazetteer.json): names, titles, organisations,
# places and events, read by answer extraction and by the briefing's entities.

Phrases = dict[tuple[str, ...], str]
_FIRSTS: dict[int, frozenset[str]] = {}


def first_words(phrases: Phrases) -> frozenset[str]:
    """The first words of a phrase table (cached: the tables live as long as the gazetteer)."""
    key = id(phrases)
    if key not in _FIRSTS:
        _FIRSTS[key] = frozenset(k[0] for k in phrases)
    return _FIRSTS[key]


@dataclass(frozen=True)
class Gazetteer:
    titles: Phrases
    weak_titles: frozenset[tuple[str, ...]]
    surnames: frozenset[str]
    org_heads: Phrases
    standalone_orgs: Phrases
    acronyms: frozenset[str]
    places: Phrases
    place_prefixes: Phrases
    event_heads: Phrases
    title_stop: Phrases
    longest: int = 6


def _key(phrase: str) -> tuple[str, ...]:
    return tuple(t.norm for t in tokenize(phrase))


def _phrases(items: list[str]) -> Phrases:
    return {_key(p): p for p in items if _key(p)}


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    raw = data_json("entities_gazetteer.json")
    return Gazetteer(
        titles=_phrases(raw["titles"]),
        weak_titles=frozenset(_key(p) for p in raw["weak_titles"]),
        surnames=frozenset(fold_token(s) for s in raw["surnames"]),
        org_heads=_phrases(raw["org_heads"]),
        standalone_orgs=_phrases(raw["standalone_orgs"]),
        acronyms=frozenset(raw["org_acronyms"]),
        places=_phrases(raw["places"]),
        place_prefixes=_phrases(raw["place_prefixes"]),
        event_heads=_phrases(raw["event_heads"]),
        title_stop=_phrases(raw["title_stop"]),
    )

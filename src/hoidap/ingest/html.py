"""Whole-page reading of a saved news page, beside trafilatura's extraction of its article.

* ``listing_reason``: homepages and category pages (many teaser headlines with links, no article
  body) are not one article; trafilatura would return a handful of unrelated teasers as if they
  were one, titled after the first. They are refused with this reason.
* ``lead_text``: the lead ("sapo", VnExpress ``p.description``) often holds the headline fact, and
  trafilatura drops it on most Vietnamese outlets' markup (checked on tests/data/pages/: kept on
  Dân trí, dropped on VnExpress, Tuổi Trẻ, Thanh Niên and VOV). It is recovered by the outlets'
  own class names (data: ``lead_selectors``).
* A ``<title>``'s site name ("... - VnExpress", "... | Báo Dân trí") is dropped by
  ``text.clean.strip_site_suffix``, as a text page's headline is.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import lxml.html
from lxml import etree

from hoidap.shipped import data_json

logger = logging.getLogger(__name__)

_PATTERNS = data_json("page_patterns.json")

# fmt: off
LEAD_SELECTORS: tuple[str, ...] = tuple(_PATTERNS["lead_selectors"])

# A teaser headline: a link of at least this many words that is (nearly) all of its block's text
# ("<h3><a>Giá vàng tăng mạnh phiên đầu tuần</a></h3>"); menu items are 1-3 words, and a link
# inside a sentence is a fraction of its paragraph.
TEASER_MIN_WORDS = 4
TEASER_BLOCK_SHARE = 0.8
# A body paragraph: a sentence of this many words (ending in . ! ? … or a closing quote), mostly
# not link text, not right after a teaser headline (a teaser's excerpt follows its headline; a
# body paragraph follows another paragraph). Outlets that write one short sentence a paragraph
# have 12-20 words in each; headlines, captions and menu lines do not end like a sentence.
BODY_MIN_WORDS = 12
# A listing page has at least this many teaser headlines and no run of this many body paragraphs
# under one parent. The Dân trí homepages of issue 21 had 43-88 teasers; an article's related and
# most-read boxes hold 5-12, and its body has 2 or more paragraphs side by side.
LISTING_MIN_TEASERS = 15
ARTICLE_MIN_BODY_RUN = 2
# fmt: on

_SENTENCE_END = re.compile(r"[.!?…:][\"'”’)\]]*$")
_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div", "td", "dd", "dt"})


@dataclass(frozen=True)
class PageShape:
    """What the whole page says beside its article: a lead paragraph, and whether it is a listing."""

    lead: str | None
    teasers: int  # teaser headlines (links that make up their block)
    body_run: int  # the most body paragraphs under one parent
    links: tuple[str, ...] = ()  # the teasers' hrefs as written, in page order, each once

    @property
    def listing_reason(self) -> str | None:
        if self.teasers >= LISTING_MIN_TEASERS and self.body_run < ARTICLE_MIN_BODY_RUN:
            return (
                f"a listing page (homepage or category page: {self.teasers} teaser links "
                "and no article body), not one article; ingest the articles it links to"
            )
        return None


def page_shape(html: str) -> PageShape:
    """Read the page once with lxml: its lead paragraph, teaser headlines and body paragraphs."""
    try:
        root = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError) as exc:  # trafilatura then says what is wrong
        logger.debug("lxml could not parse the page: %s", exc)
        return PageShape(None, 0, 0)
    return PageShape(_lead(root), *_teasers_and_body(root))


def _words(text: str) -> int:
    return len(text.split())


def _lead(root: lxml.html.HtmlElement) -> str | None:
    for selector in LEAD_SELECTORS:
        tag, cls = selector.split(".", 1)
        for el in root.iter(tag):
            if cls in (el.get("class") or "").split():
                text = " ".join(el.text_content().split())
                if _words(text) >= TEASER_MIN_WORDS:
                    return text
    return None


def _teasers_and_body(root: lxml.html.HtmlElement) -> tuple[int, int, tuple[str, ...]]:
    teaser_blocks: set[lxml.html.HtmlElement] = set()
    links: dict[str, None] = {}
    # Each block's text length once: many links in one big container must not each re-read it.
    block_chars: dict[lxml.html.HtmlElement, int] = {}
    for a in root.iter("a"):
        text = " ".join(a.text_content().split())
        if _words(text) < TEASER_MIN_WORDS:
            continue
        block = a.getparent()
        while block is not None and block.tag not in _BLOCKS:
            block = block.getparent()
        if block is None:
            continue
        if block not in block_chars:
            block_chars[block] = len(" ".join(block.text_content().split()))
        if len(text) >= TEASER_BLOCK_SHARE * block_chars[block]:
            teaser_blocks.add(block)
            href = (a.get("href") or "").strip()
            if href and not href.startswith(("#", "javascript:", "mailto:")):
                links[href] = None
    body: set[lxml.html.HtmlElement] = set()
    for p in root.iter("p"):
        text = " ".join(p.text_content().split())
        if _words(text) < BODY_MIN_WORDS or not _SENTENCE_END.search(text):
            continue
        link_chars = sum(len(" ".join(a.text_content().split())) for a in p.iter("a"))
        if link_chars * 2 <= len(text):
            body.add(p)
    return len(teaser_blocks), _longest_body_run(body, teaser_blocks), tuple(links)


def _longest_body_run(body: set[lxml.html.HtmlElement], teasers: set[lxml.html.HtmlElement]) -> int:
    """The most body paragraphs side by side under one parent, a teaser headline between two
    breaking the run: an article's paragraphs follow each other (figures and captions between
    them do not break it), a listing's excerpts each follow their own headline."""
    best = 0
    for parent in {p.getparent() for p in body} - {None}:
        run = 0
        for child in parent:
            if child in body:
                run += 1
                best = max(best, run)
            elif child in teasers or any(d in teasers for d in child.iter()):
                run = 0
    return best



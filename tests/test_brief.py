"""Briefings: cited, deduplicated, ordered; the CLI JSON shapes; the ROUGE benchmark runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hoidap.cli import main
from hoidap.engine import Engine
from hoidap.models import RawDocument
from hoidap.search.evidence import NEAR_DUPLICATE_JACCARD, jaccard
from hoidap.text.normalize import strip_diacritics, terms

from .conftest import EVAL, need

REPO = Path(__file__).resolve().parents[1]
CITATION_KEYS = {"doc_id", "source", "title", "sentence", "start", "end", "also"}
FIGURE_KEYS = {"value", "low", "high", "qualifier", "unit", "counts", "date", "citation"}


def _plain(text: str) -> frozenset[str]:
    return frozenset(strip_diacritics(t) for t in terms(text))


def test_brief_on_seeds_is_cited_deduplicated_and_dated(seeded_index: Path) -> None:
    with Engine(seeded_index) as eng:
        b = eng.brief(max_sentences=10)
        docs = {d.doc_id: eng.document(d.doc_id) for d in eng.documents()}
    assert 1 <= len(b.sentences) <= 10
    for s in b.sentences:
        assert s.citations
        for c in s.citations:
            assert docs[c.doc_id].original_text[c.start : c.end] == c.sentence == s.text
            for ref in c.also:
                assert ref.doc_id != c.doc_id
                assert _plain(docs[ref.doc_id].original_text[ref.start : ref.end]) is not None
    for i, a in enumerate(b.sentences):
        for other in b.sentences[i + 1 :]:
            assert jaccard(_plain(a.text), _plain(other.text)) < NEAR_DUPLICATE_JACCARD
    # Ordered by the date of the article (undated last), then position in the article.
    keys = [(0, s.date[:10]) if s.date else (1, "") for s in b.sentences]
    assert keys == sorted(keys)


def test_near_duplicates_are_merged_with_every_source(tmp_path: Path) -> None:
    shared = "Đến nay, Việt Nam đã có quan hệ ngoại giao với 189 quốc gia trên khắp thế giới."
    docs = [
        RawDocument(f"a{i}.txt", f"Bài {i} về đối ngoại năm nay có nhiều điểm mới đáng chú ý.\n\n"
                    f"{shared.replace('khắp ', '') if i == 2 else shared} "
                    f"Điểm riêng số {i}: hội nghị lần này bàn về chủ đề thứ {i} của ngành ngoại giao.",
                    date=f"2021-12-1{i}")
        for i in range(1, 4)
    ]
    with Engine(tmp_path / "idx") as eng:
        eng.ingest_documents(docs)
        b = eng.brief(max_sentences=6)
    stated = [s for s in b.sentences if "189 quốc gia" in s.text]
    assert len(stated) == 1
    c = stated[0].citations[0]
    assert len({c.doc_id, *(r.doc_id for r in c.also)}) == 3


def test_docs_and_query_filters(seeded_index: Path) -> None:
    with Engine(seeded_index) as eng:
        ids = [d.doc_id for d in eng.documents()]
        only = eng.brief(docs=[ids[1]], max_sentences=3)
        assert only.doc_ids == (ids[1],)
        assert {s.citations[0].doc_id for s in only.sentences} == {ids[1]}
        q = eng.brief(query="liều vắc xin", max_sentences=3)
        assert q.query == "liều vắc xin" and q.doc_ids
        assert any("vắc xin" in s.text for s in q.sentences)
        words = eng.brief(max_words=60, with_facts=False)
        n = [len(terms(s.text)) for s in words.sentences]
        assert sum(n) >= 60 and sum(n) - max(n) < 60  # the sentence that reached 60 is kept whole


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_brief_and_facts_json(seeded_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = _run(capsys, "brief", "--index", str(seeded_index), "--max-sentences", "4", "--json")
    assert {"sentences", "figures", "entities", "conflicts"} <= set(out)
    assert 1 <= len(out["sentences"]) <= 4
    for s in out["sentences"]:
        assert s["text"] and s["citations"] and set(s["citations"][0]) >= CITATION_KEYS
    assert out["figures"] and set(out["figures"][0]) >= FIGURE_KEYS
    assert {"name", "kind", "title", "citations"} <= set(out["entities"][0])
    labels = {c["label"] for c in out["conflicts"]}
    assert labels <= {"agree", "compatible", "conflict"} and "conflict" in labels
    facts = _run(capsys, "facts", "--index", str(seeded_index), "--json")
    assert {"figures", "entities", "conflicts"} <= set(facts)
    only = _run(capsys, "facts", "--index", str(seeded_index), "--json", "--conflicts")
    assert set(only) == {"conflicts"}
    for c in only["conflicts"]:
        assert c["members"] and all(set(m) >= FIGURE_KEYS for m in c["members"])
    assert main(["brief", "--index", str(seeded_index), "--max-sentences", "2"]) == 0
    assert "[1]" in capsys.readouterr().out
    for cmd in ("brief", "facts"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert "Example" in capsys.readouterr().out


def test_rouge_benchmark_runs_on_five_clusters() -> None:
    need(EVAL / "vims_300clusters.jsonl")
    need(EVAL / "abmusu_train.jsonl")
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "rouge_brief.py"), "--limit", "5", "--workers", "1", "--json"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    out = json.loads(proc.stdout)
    assert out["clusters"] == {"vims": 5, "abmusu": 5}
    for name in ("vims", "abmusu"):
        for system in ("hoidap", "lead", "lead-rr", "textrank", "lexrank"):
            assert 0.0 < out["rouge"][name][system]["r2"] < 1.0


def test_rouge_functions() -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from rouge_brief import lcs_length, rouge_l, rouge_n, rouge_tokens

    assert rouge_tokens("Việt Nam, 2021!") == ["việt", "nam", "2021"]
    ref = rouge_tokens("việt nam có quan hệ ngoại giao")
    assert rouge_n(ref, ref, 2) == 1.0 and rouge_l(ref, ref) == 1.0
    assert lcs_length(list("abcbdab"), list("bdcaba")) == 4
    assert rouge_n(["a", "b"], ["c", "d"], 1) == 0.0


def test_salience_model_is_shipped_and_scored_without_sklearn() -> None:
    code = ("import sys, hoidap.briefing.brief as b; "
            "assert 'sklearn' not in sys.modules; "
            "m = b.MODEL; n = len(b.FEATURES); "
            "assert list(m['features']) == list(b.FEATURES) and n == 3 * len(b.SIGNALS); "
            "assert len(m['coef']) == len(m['mean']) == len(m['scale']) == n; "
            "assert 'out-of-fold' in m['data'] and m['command'] and m['version'] >= 2")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_signals_are_finite_and_standardised_per_briefing(seeded_index: Path) -> None:
    from hoidap.briefing import brief

    with Engine(seeded_index) as eng:
        articles = [eng.document(d.doc_id) for d in eng.documents()]
    cands = brief._candidates(articles)
    rows = brief.features(cands, articles)
    k = len(brief.SIGNALS)
    assert len(rows) == len(cands) and all(len(r) == len(brief.FEATURES) for r in rows)
    for j in range(k):
        z = [r[k + j] for r in rows]
        assert abs(sum(z) / len(z)) < 1e-9  # standardised within the briefing
    first = brief.SIGNALS.index("first")
    assert sum(r[first] for r in rows) == len({c.doc for c in cands})  # one first sentence per article


def test_one_article_has_no_cross_document_signal(seeded_index: Path) -> None:
    """One article skips the pairs' holders (a quarter of briefing one 4M-character document): its
    cross-document signals are 0, and the others are those it gets beside other articles."""
    from hoidap.briefing import brief

    with Engine(seeded_index) as eng:
        articles = [eng.document(d.doc_id) for d in eng.documents()]
    alone = brief._signals(brief._candidates(articles[:1]), articles[:1])
    for name in ("support", "cover", "max_cover"):
        assert all(r[brief.SIGNALS.index(name)] == 0 for r in alone)
    together = brief._signals(brief._candidates(articles), articles)
    n = len(alone)
    for name in ("lead", "relpos", "log_length", "digits", "first", "own_title_words", "own_lead_pairs"):
        j = brief.SIGNALS.index(name)
        assert [r[j] for r in alone] == [r[j] for r in together[:n]]


def test_benchmark_scores_hoidap_out_of_fold() -> None:
    sys.path.insert(0, str(REPO / "scripts"))
    import train_brief

    # Every cluster is briefed by the model of its fold, trained on the other folds only.
    assert {train_brief.fold_of(i) for i in range(10)} == set(range(train_brief.K_FOLDS))
    assert "--shipped" in (REPO / "benchmarks" / "rouge_brief.py").read_text(encoding="utf-8")


def test_a_query_on_another_topic_gives_an_empty_briefing(seeded_index: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    with Engine(seeded_index) as eng:
        for q in ("bóng đá ngoại hạng Anh", "bong da ngoai hang Anh"):
            b = eng.brief(query=q)
            assert b.sentences == () and b.doc_ids == ()
        assert eng.brief(query="vắc xin").sentences
    assert main(["brief", "--index", str(seeded_index), "--query", "bóng đá ngoại hạng Anh"]) == 0
    assert "Không có bài nào về “bóng đá ngoại hạng Anh”" in capsys.readouterr().out


def test_a_sentence_dangling_on_a_colon_is_never_briefed(tmp_path: Path) -> None:
    body = ("Bộ Y tế công bố các biện pháp phòng dịch mới cho mùa đông năm nay như sau:\n\n"
            "Người dân cần tiêm đủ liều vắc xin theo lịch của trạm y tế phường.\n\n"
            "Các trường học phải kiểm tra thân nhiệt học sinh mỗi sáng trước giờ vào lớp.")
    with Engine(tmp_path / "idx") as eng:
        eng.ingest_documents([RawDocument("a.txt", body), RawDocument("b.txt", body.replace("mới", "mới nhất"))])
        b = eng.brief(max_sentences=10)
    assert b.sentences and not any(s.text.rstrip().endswith(":") for s in b.sentences)


def test_key_figures_put_sourced_figures_first_and_durations_last(seeded_index: Path) -> None:
    with Engine(seeded_index) as eng:
        b = eng.brief()
    texts = [f.text for f in b.figures]
    first_duration = min(k for k, f in enumerate(b.figures) if f.unit in ("năm", "lần"))
    assert all(f.unit not in ("năm", "lần") for f in b.figures[:first_duration])
    assert texts.index("224 thị trường và đối tác") < first_duration
    # A figure the sources of one comparison state in the same words is listed once.
    listed = {id(f) for f in b.figures}
    for c in b.conflicts:
        shown = [f.text for f in c.members if id(f) in listed]
        assert len(shown) == len(set(shown))


def test_an_untitled_document_is_named_by_outlet_and_date_never_by_path(seeded_index: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["brief", "--index", str(seeded_index), "--max-sentences", "8"]) == 0
    out = capsys.readouterr().out
    assert "../" not in out and ".txt" not in out and "/shared/" not in out


def test_a_briefing_follows_one_articles_account_before_a_near_equal_sentence_elsewhere(tmp_path: Path) -> None:
    """Continuity (``brief.CONTINUITY``): of two sentences about as salient, the one whose article
    already has a sentence briefed is taken; a clearly better one elsewhere still wins."""
    from hoidap.briefing import brief

    docs = [RawDocument("a.txt", "Cơn bão số 3 đổ bộ vào Quảng Ninh sáng nay với sức gió mạnh cấp mười hai. "
                                 "Hàng nghìn hộ dân ven biển đã được sơ tán đến nơi an toàn trước đó một ngày."),
            RawDocument("b.txt", "Nhiều chuyến bay tới sân bay Vân Đồn bị hủy vì thời tiết xấu kéo dài suốt hai ngày.")]
    with Engine(tmp_path / "idx") as eng:
        eng.ingest_documents(docs)
        articles = sorted((eng.document(d.doc_id) for d in eng.documents()), key=lambda a: a.source)
    cands = brief._candidates(articles)
    assert [(c.doc, c.index) for c in cands] == [(0, 0), (0, 1), (1, 0)]
    near = [1.0, 0.9, 0.95]  # the other article's sentence a little more salient
    assert brief._select(cands, near, 2, None, continuity=0.0) == [0, 2]
    assert brief._select(cands, near, 2, None) == [0, 1]
    clear = [1.0, 0.7, 0.95]  # ... or clearly more
    assert brief._select(cands, clear, 2, None) == [0, 2]

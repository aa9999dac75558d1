"""Multi-process prepare: same results as one process, in input order, failures passed through."""

from __future__ import annotations

from pathlib import Path

from hoidap.engine import Engine
from hoidap.ingest.parallel import prepare_many, prepare_one
from hoidap.ingest.prepare import prepare
from hoidap.models import FileFailure, RawDocument
from hoidap.settings import Settings

BODY = (
    "Hà Nội, ngày {n}/12/2021. Bộ Ngoại giao tổ chức hội nghị lần thứ {n} với {m} đại biểu tham dự.\n\n"
    "Theo báo cáo, Việt Nam đã có quan hệ ngoại giao với {m} quốc gia và vùng lãnh thổ trên thế giới.\n\n"
    "Các đại biểu thống nhất tăng cường hợp tác kinh tế trong năm {n}."
)


def _docs(n: int) -> list[RawDocument | FileFailure]:
    items: list[RawDocument | FileFailure] = [
        RawDocument(source=f"doc{i}", text=BODY.format(n=i, m=100 + i), title=f"Tin số {i}") for i in range(n)
    ]
    items.insert(3, FileFailure("broken.bin", "binary file"))
    items.insert(7, RawDocument(source="empty", text="   \n\n  "))
    items.append(RawDocument(source="copy", text=BODY.format(n=0, m=100), title="Tin số 0"))
    return items


def test_prepare_one_turns_errors_into_failures() -> None:
    assert isinstance(prepare_one(RawDocument(source="empty", text="  ")), FileFailure)
    failure = FileFailure("x", "why")
    assert prepare_one(failure) is failure


def test_two_workers_match_one_in_order() -> None:
    items = _docs(150)  # more than one block of workers * chunk articles
    one = list(prepare_many(items, workers=1))
    two = list(prepare_many(items, workers=2, chunk=8))
    assert [i for i, _ in two] == items
    assert one == two
    for item, out in two:
        if isinstance(item, RawDocument) and item.source != "empty":
            assert out == prepare(item)
    assert isinstance(two[3][1], FileFailure) and two[3][1].source == "broken.bin"
    assert isinstance(two[7][1], FileFailure) and two[7][1].source == "empty"


def test_engine_ingest_with_workers_is_the_same(tmp_path: Path) -> None:
    items = _docs(40)
    reports = []
    for w in (1, 2):
        with Engine(settings=Settings(index_dir=tmp_path / f"w{w}", workers=w)) as eng:
            reports.append(eng.ingest_documents(items))
    assert reports[0] == reports[1]
    assert len(reports[1].ingested) == 40 and reports[1].duplicates == ("copy",)
    assert {f.source for f in reports[1].failed} == {"broken.bin", "empty"}

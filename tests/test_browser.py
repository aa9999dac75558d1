"""The web page end to end in headless Chromium (Debian's chromium + chromium-driver, via Selenium).

Upload the seeds, ask, open a citation and check the highlighted text is the cited
sentence; a screenshot of each view, desktop and phone, goes to test-output/screenshots/.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hoidap.engine import Engine
from hoidap.models import shown_name
from hoidap.settings import Settings

from .test_server import call, running

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"
DESKTOP = (1280, 900)
PHONE = (390, 844)
WAIT_S = 30
MAX_SHOT_PX = 2400
QUESTION = "Việt Nam đã nhận được bao nhiêu liều vắc xin?"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="browser tests need Debian's chromium and chromium-driver "
           "(apt-get install chromium chromium-driver; .ci/run installs them)",
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(index_dir=tmp_path_factory.mktemp("browser-index"))
    with running(create_app_for(settings, Engine)) as url:
        yield url


def create_app_for(settings: Settings, engine_class: type[Engine]) -> Any:
    from hoidap.server import create_app

    return create_app(settings.with_(readers=2), engine_class=engine_class)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    pytest.importorskip("selenium")
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager try to download a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--lang=vi", f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(options=opts, service=Service(str(CHROMEDRIVER)))
    drv.set_window_size(*DESKTOP)
    yield drv
    drv.quit()


def wait_for(driver: Any, css: str, text: str | None = None) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, WAIT_S)
    if text is not None:
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def shot(driver: Any, name: str, *, whole_page: bool = True) -> Path:
    """A PNG of the page (down to MAX_SHOT_PX), or of what the window shows."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    if not whole_page:
        driver.save_screenshot(str(path))
        return path
    width, height = driver.execute_script(
        "return [document.documentElement.clientWidth, document.documentElement.scrollHeight]")
    png = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": min(height, MAX_SHOT_PX), "scale": 1}})
    path.write_bytes(base64.b64decode(png["data"]))
    return path


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def ask(driver: Any, question: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.find_element(By.CSS_SELECTOR, 'nav a[data-view="hoi"]').click()
    box = wait_for(driver, "#question")
    box.clear()
    box.send_keys(question, Keys.ENTER)  # the keyboard submits the form
    return wait_for(driver, "#answer-text")


@pytest.fixture(scope="module")
def uploaded(driver: Any, base: str, seeds_dir: Path) -> list[Path]:
    """The five seeds, uploaded through the page's form."""
    from selenium.webdriver.common.by import By

    seeds = sorted(seeds_dir.glob("*.txt"))
    driver.get(base + "/#tai-len")
    wait_for(driver, "label[for=files]")
    driver.find_element(By.ID, "files").send_keys("\n".join(str(p) for p in seeds))
    assert f"{len(seeds)} tệp:" in driver.find_element(By.ID, "file-names").text
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    wait_for(driver, "#upload-result", f"Đã nạp {len(seeds)} bài mới")
    items = driver.find_elements(By.CSS_SELECTOR, ".file-result")
    assert [i.find_element(By.TAG_NAME, "strong").text for i in items] == [p.name for p in seeds]
    assert all("Đã nạp 1 bài" in i.text for i in items)
    shot(driver, "desktop-upload")
    return seeds


def test_ask_and_open_citation_highlights_the_cited_sentence(driver: Any, base: str, uploaded: list[Path]) -> None:
    from selenium.webdriver.common.by import By

    _, api = call(base, "POST", "/api/ask", {"questions": [QUESTION]})
    expected = api["answers"][0]
    answer = ask(driver, QUESTION)
    assert expected["answer"] is not None and answer.text == expected["answer"]
    cited = driver.find_elements(By.CSS_SELECTOR, ".citation .cited-sentence")
    assert [norm(c.text) for c in cited] == [norm(c["sentence"]) for c in expected["citations"]]
    assert "151 triệu liều" in cited[0].text
    shot(driver, "desktop-ask")

    first = expected["citations"][0]
    driver.find_element(By.CSS_SELECTOR, ".citation .source .cite-link").click()
    mark = wait_for(driver, "#view-bai mark#cited")
    assert norm(mark.text) == norm(first["sentence"])
    _, doc = call(base, "GET", f"/api/docs/{first['doc_id']}")
    assert doc["original_text"][first["start"]: first["end"]] == first["sentence"]
    # In place: the text around the mark is the article's own text around the sentence.
    page_text = driver.find_element(By.ID, "article-text").text
    assert norm(page_text) == norm(doc["original_text"])
    assert driver.find_element(By.ID, "article-title").text == doc["title"]
    in_view = driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight;", mark)
    assert in_view, "the highlighted sentence is scrolled into view"
    assert driver.switch_to.active_element == mark  # focus moves to it, for keyboard and screen readers
    shot(driver, "desktop-article", whole_page=False)  # the window, scrolled to the highlight

    driver.find_element(By.ID, "back").click()
    assert wait_for(driver, "#answer-text").text == expected["answer"]


def test_a_question_typed_without_diacritics_shows_how_it_was_read(driver: Any, base: str,
                                                                    uploaded: list[Path]) -> None:
    from selenium.webdriver.common.by import By

    typed = "Viet Nam da dang cai APEC vao nhung nam nao?"
    _, api = call(base, "POST", "/api/ask", {"questions": [typed]})
    expected = api["answers"][0]
    answer = ask(driver, typed)
    assert expected["understood"] and answer.text == expected["answer"]
    hint = driver.find_element(By.CSS_SELECTOR, ".answer-card .hint").text
    assert hint.startswith("Hiểu câu hỏi là") and expected["understood"] in hint


def test_question_without_answer_says_so(driver: Any, uploaded: list[Path]) -> None:
    answer = ask(driver, "Giá vàng SJC hôm nay bao nhiêu một lượng?")
    assert answer.text == "Không tìm thấy câu trả lời"
    shot(driver, "desktop-not-found")


def test_documents_view_lists_metadata(driver: Any, base: str, uploaded: list[Path]) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, 'nav a[data-view="tai-lieu"]').click()
    wait_for(driver, "#docs-summary", "5 tài liệu")
    _, page = call(base, "GET", "/api/docs")
    docs = driver.find_elements(By.CSS_SELECTOR, "#docs-list .doc")
    assert [d.find_element(By.CSS_SELECTOR, ".doc-title").text for d in docs] == [
        shown_name(d["title"], d["outlet"], d["date"], d["doc_id"]) for d in page["documents"]]
    assert f"{page['documents'][0]['n_sentences']} câu" in docs[0].text
    assert page["documents"][0]["source"] in docs[0].text
    shot(driver, "desktop-documents")


def test_brief_view_draws_figures_and_conflicts(driver: Any, base: str, uploaded: list[Path]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    topic = "quan hệ ngoại giao và thương mại"
    _, expected = call(base, "POST", "/api/brief", {"query": topic})
    differ = [c for c in expected["conflicts"] if c["label"] != "agree"]
    assert expected["figures"] and differ, "the seeds disagree on the number of trade partners"
    driver.find_element(By.CSS_SELECTOR, 'nav a[data-view="tom-tat"]').click()
    box = wait_for(driver, "#topic")
    box.clear()
    box.send_keys(topic, Keys.ENTER)
    table = wait_for(driver, "table.figures")
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == min(len(expected["figures"]), 20)
    assert rows[0].find_element(By.TAG_NAME, "strong").text == expected["figures"][0]["text"]
    sentences = driver.find_elements(By.CSS_SELECTOR, ".brief-sentences > li")
    assert len(sentences) == len(expected["sentences"])
    charts = driver.find_elements(By.CSS_SELECTOR, "figure.conflict")
    assert len(charts) == len(differ)  # one chart per disagreement; agreements are only counted
    for chart, comparison in zip(charts, differ, strict=True):
        assert comparison["quantity"] in chart.find_element(By.TAG_NAME, "figcaption").text
        marks = chart.find_elements(By.CSS_SELECTOR, "circle.value, rect.range")
        assert len(marks) == len(comparison["members"])  # each source side by side
    at = {m["low"]: i for i, m in enumerate(differ[0]["members"])}
    if {224, 230} <= set(at):  # 224 (a dot) lies left of "hơn 230" (a bar running off to the right)
        rows_svg = charts[0].find_elements(By.CSS_SELECTOR, "g.bar-row")
        dot = rows_svg[at[224]].find_element(By.CSS_SELECTOR, "circle.value")
        bar = rows_svg[at[230]].find_element(By.CSS_SELECTOR, "rect.open")
        assert float(dot.get_attribute("cx")) < float(bar.get_attribute("x"))
    shot(driver, "desktop-brief")


def test_api_docs_render_offline(driver: Any, base: str) -> None:
    """Swagger UI at /docs, from the installed package (no CDN), lists the endpoints."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/docs")
    try:
        wait_for(driver, ".opblock")
        paths = {e.text for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
        assert {"/api/ask", "/api/ingest", "/api/docs/{doc_id}"} <= paths
        shot(driver, "desktop-api-docs")
    finally:
        driver.get(base + "/#hoi")  # the page, for the tests after this one


LONG_NAME = "bao-cao-tong-ket-hoi-nghi-doi-ngoai-toan-quoc-nam-2021-ban-day-du-khong-rut-gon-" * 2 + ".txt"
LONG_TEXT = ("Hội nghị đối ngoại toàn quốc năm 2021 diễn ra tại Hà Nội ngày 14/12/2021 với sự tham gia "
             "của 1.200 đại biểu tại điểm cầu chính và các điểm cầu trực tuyến.")


def fits(driver: Any, name: str, width_px: int) -> None:
    """No sideways scroll: the page is no wider than the window (names the widest elements if it is)."""
    width, wide, client = driver.execute_script(
        "const wide = [...document.querySelectorAll('body *')].filter(e =>"
        " e.getBoundingClientRect().right + scrollX > innerWidth + 0.5).map(e => e.tagName + '.' + e.className);"
        "return [document.documentElement.scrollWidth, wide.slice(0, 5), document.documentElement.clientWidth]")
    # Within the screen, and within what the vertical scroll bar leaves of it (no sideways scroll bar).
    assert width <= width_px and width <= client, f"{name}: page is {width} px wide on a {width_px} px screen: {wide}"


@pytest.fixture(scope="module")
def long_named(driver: Any, base: str, uploaded: list[Path], tmp_path_factory: pytest.TempPathFactory) -> str:
    """An article whose file name is one long word (the document view once was 443 px wide on a phone)."""
    from .test_server import upload

    assert len(LONG_NAME.encode()) <= 255
    status, report = upload(base, [(LONG_NAME, LONG_TEXT.encode())])
    assert status == 200, report
    return str(report["files"][0]["ingested"][0])


def every_view(driver: Any, base: str, doc_id: str, tmp_path: Path, size: str, width_px: int) -> None:
    """Each view, checked for sideways scroll and photographed: ask, a cited article, an
    article with a long file name, a briefing by topic and of the whole collection, the
    documents, and an upload with failed files (their reasons in Vietnamese)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    ask(driver, QUESTION)
    fits(driver, "ask", width_px)
    shot(driver, f"{size}-ask")
    driver.find_element(By.CSS_SELECTOR, ".citation .source .cite-link").click()
    wait_for(driver, "#view-bai mark#cited")
    fits(driver, "article", width_px)
    shot(driver, f"{size}-article", whole_page=False)
    driver.get(f"{base}/#bai/{doc_id}")
    wait_for(driver, "#article-meta", LONG_NAME[:20])
    fits(driver, "article with a long file name", width_px)
    assert driver.switch_to.active_element.get_attribute("id") != "article-text"
    assert driver.execute_script(
        "return getComputedStyle(document.getElementById('article')).outlineStyle") == "none"
    shot(driver, f"{size}-article-long-name")
    for name, topic in (("brief", "quan hệ ngoại giao và thương mại"), ("brief-all", "")):
        driver.find_element(By.CSS_SELECTOR, 'nav a[data-view="tom-tat"]').click()
        box = wait_for(driver, "#topic")
        box.clear()
        box.send_keys(topic, Keys.ENTER)  # empty: the whole collection (the topic is optional)
        wait_for(driver, "#brief-result h2")
        wait_for(driver, "table.figures")
        fits(driver, name, width_px)
        # The figures table fits its own box (it would scroll inside it, never the page).
        inner, outer = driver.execute_script(
            "const w = document.querySelector('.table-wrap'); return [w.scrollWidth, w.clientWidth]")
        assert inner <= outer + 1, f"{name}: the figures table is {inner} px in a {outer} px box"
        shot(driver, f"{size}-{name}")
    driver.find_element(By.CSS_SELECTOR, 'nav a[data-view="tai-lieu"]').click()
    wait_for(driver, "#docs-list .doc")
    fits(driver, "documents", width_px)
    shot(driver, f"{size}-documents")
    driver.find_element(By.CSS_SELECTOR, 'nav a[data-view="tai-len"]').click()
    wait_for(driver, "label[for=files]")
    fits(driver, "upload", width_px)
    bad = tmp_path / size
    bad.mkdir()
    (bad / "anh.pdf").write_bytes(b"%PDF-1.4")
    (bad / "tcvn3.txt").write_bytes("Hµ Néi lµ thñ ®« cña ViÖt Nam, n¬i diÔn ra héi nghÞ ®èi ngo¹i".encode("latin-1"))
    driver.find_element(By.ID, "files").send_keys(f"{bad / 'anh.pdf'}\n{bad / 'tcvn3.txt'}")
    driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    result = wait_for(driver, "#upload-result", "2 lỗi").text
    assert "không đọc được tệp PDF" in result and "bảng mã cũ" in result, result
    assert not {"unsupported", "not UTF-8", "looks like", "convert", "type"} & set(re.findall(
        r"unsupported|not UTF-8|looks like|convert|type", result)), result  # no English left
    fits(driver, "upload with failures", width_px)
    shot(driver, f"{size}-upload-failures")


def test_every_view_on_desktop(driver: Any, base: str, long_named: str, tmp_path: Path) -> None:
    every_view(driver, base, long_named, tmp_path, "desktop", DESKTOP[0])


def test_phone_screen(driver: Any, base: str, long_named: str, tmp_path: Path) -> None:
    """Every view fits a 390 px wide phone screen without sideways scrolling."""
    driver.set_window_size(*PHONE)
    try:
        assert driver.execute_script("return innerWidth") == PHONE[0]
        every_view(driver, base, long_named, tmp_path, "phone", PHONE[0])
    finally:
        driver.set_window_size(*DESKTOP)


def test_upload_shows_progress(driver: Any, base: str, uploaded: list[Path], tmp_path: Path) -> None:
    """A 2 MB upload over a throttled connection: the progress bar moves, then the report shows.
    (Last: it adds 200 articles to the shared index.)"""
    import json

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    big = tmp_path / "ban-tin.jsonl"
    big.write_text("\n".join(json.dumps(
        {"title": f"Bản tin {i}", "text": f"Bản tin số {i}. " + "Thời tiết Hà Nội hôm nay nắng nhẹ. " * 250},
        ensure_ascii=False) for i in range(200)), encoding="utf-8")
    driver.find_element(By.CSS_SELECTOR, 'nav a[data-view="tai-len"]').click()
    driver.find_element(By.ID, "files").send_keys(str(big))
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {  # ~1 MB/s: the upload takes seconds
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1024 * 1024})
    try:
        driver.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
        bar = wait_for(driver, "#upload-bar")
        WebDriverWait(driver, WAIT_S).until(lambda d: 0 < float(bar.get_attribute("value")) < 100)
        assert "Đang tải lên…" in driver.find_element(By.ID, "upload-label").text
        shot(driver, "desktop-upload-progress")
    finally:
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    wait_for(driver, "#upload-result", "Đã nạp 200 bài mới")
    assert driver.find_element(By.ID, "upload-progress").get_attribute("hidden") is not None

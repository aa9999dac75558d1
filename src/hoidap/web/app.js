// hoidap's web page: plain JavaScript, no build step, no outside resources.
// Views are sections switched by the URL hash (#hoi, #tom-tat, #tai-lieu, #tai-len,
// #bai/DOC_ID/START-END), so the browser's back button and links work as usual.
"use strict";

const DOCS_PAGE = 50;  // documents per "Xem thêm"
const JOB_POLL_MS = 500;  // how often an upload's ingest job is asked for its progress
const TOKEN_KEY = "hoidap-token";  // the API token, kept for this browser tab only (sessionStorage)
const numberFmt = new Intl.NumberFormat("vi-VN", { maximumFractionDigits: 2 });
const axisFmt = new Intl.NumberFormat("vi-VN", { maximumSignificantDigits: 3 });

// -- small helpers -------------------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// -- the server's messages in Vietnamese ----------------------------------------------
// The API answers in English (for scripts and logs); the page shows every message in
// Vietnamese, translated by the patterns of /static/messages.json.
let MESSAGES = [];

async function loadMessages() {
  try {
    const res = await fetch("/static/messages.json");
    MESSAGES = (await res.json()).patterns.map(([re, vi]) => [new RegExp(re), vi]);
  } catch (e) { /* untranslated messages are still shown, marked as the server's */ }
}

function viMessage(message) {
  const text = String(message || "").trim();
  for (const [re, vi] of MESSAGES) {
    if (re.test(text)) return text.replace(re, vi);  // $1, $2: the captured parts
  }
  return text ? `lỗi máy chủ (${text})` : "lỗi không rõ";
}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function api(method, path, body) {
  const opts = { method, headers: authHeaders() };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new Error("Không kết nối được máy chủ.");
  }
  let data = null;
  try { data = await res.json(); } catch (e) { /* not JSON: reported below */ }
  if (!res.ok) {
    if (res.status === 401) showTokenForm();
    const err = new Error(data && data.message ? viMessage(data.message) : `mã lỗi ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return data;
}

function errorBox(message) {
  return el("p", { class: "error", role: "alert", text: "Lỗi: " + message });
}

function busy(container, text) {
  container.replaceChildren(el("p", { class: "loading", text }));
}

function joinMeta(...parts) {
  return parts.filter((p) => p !== null && p !== undefined && p !== "").join(" · ");
}

function fmtDate(d) {
  if (!d) return "";
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?(?:T(\d{2}:\d{2}))?/.exec(d);
  if (!m) return d;
  const day = m[3] ? `${m[3]}/${m[2]}/${m[1]}` : `${m[2]}/${m[1]}`;
  return m[4] ? `${m[4]} ${day}` : day;
}

function articleHref(docId, start, end) {
  const where = start === undefined ? "" : `/${start}-${end}`;
  return `#bai/${encodeURIComponent(docId)}${where}`;
}

// A source by its outlet, title or date, never by a file path (which says nothing and may be private).
function sourceName(c) {
  return c.outlet || c.title || (c.date ? String(c.date).slice(0, 10) : "") || `bài ${String(c.doc_id).slice(0, 8)}`;
}

// An article's name as a title: its title, else its outlet and date, else "bài" and its id
// (models.shown_name); never its source, which may be a machine path.
function docName(d) {
  if (d.title) return d.title;
  const named = [d.outlet, d.date ? String(d.date).slice(0, 10) : ""].filter(Boolean).join(", ");
  return named || `bài ${String(d.doc_id).slice(0, 8)}`;
}

// A link that opens the cited article with the sentence highlighted.
// A headline's citation (in_title) opens the article at its top: its offsets are the title's.
function citeLink(c, label) {
  if (c.in_title) return el("a", { class: "cite-link", href: articleHref(c.doc_id), "data-doc": c.doc_id }, label);
  return el("a", {
    class: "cite-link", href: articleHref(c.doc_id, c.start, c.end),
    "data-doc": c.doc_id, "data-start": c.start, "data-end": c.end,
  }, label);
}

// The sentence with the answer in bold where it occurs in it.
function sentenceWithAnswer(sentence, answer) {
  const i = answer ? sentence.indexOf(answer) : -1;
  if (i < 0) return [sentence];
  return [sentence.slice(0, i), el("strong", { text: answer }), sentence.slice(i + answer.length)];
}

function citationItem(c, answer) {
  const also = (c.also || []).map((r, i) => [i ? ", " : "", citeLink(r, sourceName(r))]);
  return el("li", { class: "citation" },
    el("blockquote", { class: "cited-sentence" }, sentenceWithAnswer(c.sentence, answer)),
    el("p", { class: "source" },
      citeLink(c, docName(c)), " ",
      el("span", { class: "meta", text: joinMeta(c.outlet, fmtDate(c.date)) })),
    also.length ? el("p", { class: "also" }, "Cùng nội dung: ", also) : null);
}

// -- views ----------------------------------------------------------------------
const VIEWS = ["hoi", "tom-tat", "tai-lieu", "tai-len", "bai"];

function show(view) {
  for (const v of VIEWS) document.getElementById(`view-${v}`).hidden = v !== view;
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function route() {
  const hash = decodeURIComponent(location.hash.replace(/^#/, ""));
  const m = /^bai\/([^/]+)(?:\/(\d+)-(\d+))?$/.exec(hash);
  if (m) {
    show("bai");
    openArticle(m[1], m[2] === undefined ? null : Number(m[2]), m[3] === undefined ? null : Number(m[3]));
    return;
  }
  const view = VIEWS.includes(hash) && hash !== "bai" ? hash : "hoi";
  show(view);
  if (view === "tai-lieu" && !docsState.loaded) loadDocs(true);
}

// -- ask --------------------------------------------------------------------------
async function ask(question) {
  const out = document.getElementById("ask-result");
  busy(out, "Đang tìm câu trả lời…");
  let data;
  try {
    data = await api("POST", "/api/ask", { questions: [question] });
  } catch (e) {
    out.replaceChildren(errorBox(e.message));
    return;
  }
  const a = data.answers[0];
  const found = a.answer !== null;
  const card = el("div", { class: found ? "answer-card" : "answer-card none" },
    el("p", { class: "label", text: found ? "Trả lời" : "Kết quả" }),
    el("p", { class: "answer", id: "answer-text", text: found ? a.answer : "Không tìm thấy câu trả lời" }),
    found
      ? el("p", { class: "confidence", text: `Độ tin cậy: ${numberFmt.format(a.confidence)}` })
      : el("p", { class: "hint", text: "Các bài đã nạp không nói rõ điều này." }));
  const parts = [card];
  if (a.understood) {  // typed without diacritics (or with few): the question as it was read
    card.insertBefore(el("p", { class: "hint", text: `Hiểu câu hỏi là: “${a.understood}”` }), card.firstChild);
  }
  if (a.citations.length) {
    parts.push(el("h2", { text: found ? "Trích dẫn" : "Các câu gần nhất (chưa đủ để trả lời)" }));
    parts.push(el("ol", { class: "citations" }, a.citations.map((c) => citationItem(c, a.answer))));
  }
  out.replaceChildren(...parts);
}

// -- article -------------------------------------------------------------------------
const articleCache = new Map();

async function openArticle(docId, start, end) {
  const title = document.getElementById("article-title");
  const meta = document.getElementById("article-meta");
  const note = document.getElementById("article-note");
  const text = document.getElementById("article-text");
  title.textContent = "Đang mở bài…";
  meta.textContent = note.textContent = "";
  text.replaceChildren();
  let doc = articleCache.get(docId);
  if (!doc) {
    try {
      doc = await api("GET", `/api/docs/${encodeURIComponent(docId)}`);
    } catch (e) {
      title.textContent = "Không mở được bài";
      text.replaceChildren(errorBox(e.message));
      return;
    }
    articleCache.set(docId, doc);
  }
  title.textContent = docName(doc);
  meta.textContent = joinMeta(doc.outlet, fmtDate(doc.date), `${doc.n_sentences} câu`, doc.source);
  // Offsets count Unicode code points (Python); Array.from splits the same way.
  const chars = Array.from(doc.original_text);
  if (start === null || end === null || end > chars.length || start >= end) {
    text.replaceChildren(doc.original_text);
    title.focus();  // the heading, not the whole text: no focus box around the article
    return;
  }
  const mark = el("mark", { id: "cited", tabindex: "-1", text: chars.slice(start, end).join("") });
  text.replaceChildren(chars.slice(0, start).join(""), mark, chars.slice(end).join(""));
  note.textContent = "Câu được trích dẫn được tô màu.";
  mark.scrollIntoView({ block: "center" });
  mark.focus({ preventScroll: true });
}

// -- brief ------------------------------------------------------------------------------
// The JSON of POST /api/brief (as `hoidap brief --json`): sentences [{text, citations}],
// figures [{value, low, high, low_strict, high_strict, of, qualifier, unit, counts, date,
// text, citation}] (high null = no upper bound: "trên 220"), entities [{name, kind, title,
// citations}], conflicts [{label: agree|compatible|conflict, quantity, members: [figure]}].
const FIGURE_ROWS = 20;  // figures shown before "Xem thêm"
const COMPARISON = { conflict: "Mâu thuẫn", compatible: "Có thể cùng đúng", agree: "Khớp nhau" };
const KIND = { person: "người", organization: "tổ chức", place: "địa danh", event: "sự kiện" };

const isNum = (x) => typeof x === "number" && Number.isFinite(x);

// The value a figure's wording allows, in numbers: "224", "> 220", "1.000–10.000", "189/193".
function figureRange(f) {
  const n = (x) => numberFmt.format(x);
  const lo = isNum(f.low) ? f.low : null, hi = isNum(f.high) ? f.high : null;
  let v;
  if (isNum(f.of)) v = `${n(f.value)}/${n(f.of)}`;
  else if (lo !== null && hi !== null && lo !== hi) v = `${n(lo)}–${n(hi)}`;
  else if (lo !== null && hi === null) v = `${f.low_strict ? ">" : "≥"} ${n(lo)}`;
  else if (hi !== null && lo === null) v = `${f.high_strict ? "<" : "≤"} ${n(hi)}`;
  else v = isNum(f.value) ? n(f.value) : "";
  return f.unit ? `${v} ${f.unit}` : v;
}

function figureRow(f) {
  return el("tr", {},
    el("td", { "data-label": "Số liệu" }, el("strong", { text: f.text || figureRange(f) })),
    el("td", { class: "num", "data-label": "Giá trị", text: figureRange(f) }),
    el("td", { "data-label": "Đại lượng", text: f.counts || "" }),
    el("td", { class: "date", "data-label": "Ngày", text: fmtDate(f.date) }),
    el("td", { "data-label": "Nguồn" }, f.citation ? citeLink(f.citation, sourceName(f.citation)) : ""));
}

function figuresTable(figures) {
  const head = el("tr", {}, ["Số liệu", "Giá trị", "Đại lượng", "Ngày", "Nguồn"].map((h) => el("th", { scope: "col", text: h })));
  const body = el("tbody", {}, figures.slice(0, FIGURE_ROWS).map(figureRow));
  const rest = figures.slice(FIGURE_ROWS);
  const more = rest.length
    ? el("button", { type: "button", class: "secondary", onclick: (e) => {
      body.append(...rest.map(figureRow));
      e.target.remove();
    } }, `Xem thêm ${rest.length} số liệu`)
    : null;
  return el("div", { class: "table-wrap" },
    el("table", { class: "figures" }, el("caption", { text: `Số liệu chính (${figures.length})` }),
      el("thead", {}, head), body), more);
}

// One comparison as a chart: a row per source on one shared scale, a value as a dot,
// a range as a bar from low to high, an open range ("trên 220") as a bar running off
// the edge with an arrow. The scale spans the values (with a margin), not 0..max,
// so that 224 vs "hơn 230" shows as a gap.
function conflictChart(conflict, index, width) {
  const members = (conflict.members || []).filter((f) => isNum(f.value) || isNum(f.low) || isNum(f.high));
  const lo = (f) => (isNum(f.low) ? f.low : null);
  const hi = (f) => (isNum(f.high) ? f.high : null);
  const ends = members.flatMap((f) => [lo(f), hi(f), isNum(f.value) ? f.value : null]).filter((v) => v !== null);
  let d0 = Math.min(...ends), d1 = Math.max(...ends);
  const pad = (d1 - d0) * 0.15 || Math.abs(d1) * 0.1 || 1;
  d0 = d0 >= 0 ? Math.max(0, d0 - pad) : d0 - pad;
  d1 += pad;
  // Drawn at the width it is shown at, so its 13 px text stays 13 px on a phone.
  const W = Math.round(Math.min(Math.max(width, 280), 560)), LEFT = 10, RIGHT = 14, ROW = 44, TOP = 6;
  const labelChars = Math.floor((W - LEFT - RIGHT) / 6.6);  // 13 px text: ~6.6 px a character
  const x = (v) => LEFT + ((W - LEFT - RIGHT) * (v - d0)) / (d1 - d0);
  const H = TOP + ROW * members.length + 20;
  const titleId = `conflict-title-${index}`;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-labelledby": titleId });
  chart.append(svg("title", { id: titleId }, `${conflict.quantity}: ` +
    members.map((f) => `${f.citation ? sourceName(f.citation) : "?"}: ${f.text || figureRange(f)}`).join("; ")));
  members.forEach((f, i) => {
    const y = TOP + i * ROW;
    const g = svg("g", { class: `bar-row series-${i % 6}` });
    const label = `${f.citation ? sourceName(f.citation) : "Nguồn " + (i + 1)}: ${f.text || figureRange(f)}`;
    // Labels longer than the row are cut; the tooltip has them whole.
    const text = svg("text", { x: LEFT, y: y + 13, class: "bar-label" },
      label.length > labelChars ? label.slice(0, labelChars - 1) + "…" : label);
    text.append(svg("title", {}, label));
    g.append(text);
    const cy = y + 28;
    g.append(svg("line", { x1: LEFT, x2: W - RIGHT, y1: cy, y2: cy, class: "guide" }));
    const a = lo(f), b = hi(f);
    if (a !== null && b !== null && a !== b) {
      g.append(svg("rect", { x: x(a), y: cy - 5, width: Math.max(x(b) - x(a), 2), height: 10, rx: 5, class: "mark range" }));
    } else if (a !== null && b === null) {  // no upper bound: from low off to the right
      g.append(svg("rect", { x: x(a), y: cy - 5, width: W - RIGHT - x(a), height: 10, class: "mark range open" }));
      g.append(svg("path", { d: `M${W - RIGHT},${cy - 8} L${W - 4},${cy} L${W - RIGHT},${cy + 8} Z`, class: "mark arrow" }));
    } else if (b !== null && a === null) {  // no lower bound
      g.append(svg("rect", { x: LEFT, y: cy - 5, width: x(b) - LEFT, height: 10, class: "mark range open" }));
    } else {
      g.append(svg("circle", { cx: x(isNum(f.value) ? f.value : a), cy, r: 6, class: "mark value" }));
    }
    chart.append(g);
  });
  const axisY = TOP + ROW * members.length + 4;
  // Dates are compared as day ordinals (Python's date.toordinal(): day 719163 is 1970-01-01).
  const isDate = members.length && members[0].unit === "thời điểm";
  const dayFmt = (v) => { const d = new Date((Math.round(v) - 719163) * 86400000); return `${d.getUTCDate()}/${d.getUTCMonth() + 1}`; };
  const tick = (v, anchor) => svg("text", { x: x(v), y: axisY + 13, class: "tick", "text-anchor": anchor }, isDate ? dayFmt(v) : axisFmt.format(v));
  chart.append(svg("line", { x1: LEFT, x2: W - RIGHT, y1: axisY, y2: axisY, class: "axis" }));
  chart.append(tick(d0, "start"), tick((d0 + d1) / 2, "middle"), tick(d1, "end"));
  const sources = members.filter((f) => f.citation).map((f, i) => [i ? ", " : "", citeLink(f.citation, sourceName(f.citation))]);
  return el("figure", { class: `conflict ${conflict.label}` },
    el("figcaption", {}, el("span", { class: `badge ${conflict.label}`, text: COMPARISON[conflict.label] || conflict.label }),
      " ", conflict.quantity),
    chart, sources.length ? el("p", { class: "also" }, "Nguồn: ", sources) : null);
}

async function brief(topic) {
  const out = document.getElementById("brief-result");
  busy(out, "Đang tóm tắt…");
  let b;
  try {
    b = await api("POST", "/api/brief", topic ? { query: topic } : {});
  } catch (e) {
    out.replaceChildren(e.status === 501
      ? el("p", { class: "notice", role: "status", text: "Máy chủ này chưa có chức năng tóm tắt." })
      : errorBox(e.message));
    return;
  }
  const sentences = b.sentences || [], figures = b.figures || [], entities = b.entities || [];
  if (!sentences.length && !figures.length) {
    out.replaceChildren(el("p", { class: "answer-card none",
      text: topic ? "Không tìm thấy bài nào về chủ đề này." : "Chưa có bài nào để tóm tắt." }));
    return;
  }
  const parts = [];
  if (sentences.length) {
    parts.push(el("h2", { text: "Ý chính" }));
    parts.push(el("ol", { class: "brief-sentences" }, sentences.map((s) => el("li", {}, s.text, " ",
      (s.citations || []).map((c, i) => el("sup", {}, citeLink(c, `[${i + 1}]`)))))));
  }
  const comparisons = b.conflicts || [];
  const differ = comparisons.filter((c) => c.label !== "agree");
  if (comparisons.length) {
    parts.push(el("h2", { text: "Các nguồn nói khác nhau" }));
    const agree = comparisons.length - differ.length;
    parts.push(el("p", { class: "hint", text: differ.length
      ? `${differ.length} số liệu được các nguồn nêu khác nhau${agree ? `; ${agree} số liệu các nguồn nêu giống nhau` : ""}.`
      : `Các nguồn nêu giống nhau cả ${agree} số liệu được so sánh.` }));
    const width = out.clientWidth - 28;  // the figure's padding and border
    parts.push(...differ.map((c, i) => conflictChart(c, i, width)));
  }
  if (figures.length) parts.push(figuresTable(figures));
  if (entities.length) {
    parts.push(el("h2", { text: "Nhân vật, tổ chức, địa danh" }));
    parts.push(el("ul", { class: "entities" }, entities.map((e) => el("li", {},
      el("strong", { text: e.name }), e.title ? `, ${e.title}` : "", " ",
      el("span", { class: "meta", text: `(${KIND[e.kind] || e.kind})` }), " ",
      (e.citations || []).slice(0, 3).map((c, i) => el("sup", {}, citeLink(c, `[${i + 1}]`)))))));
  }
  out.replaceChildren(...parts);
}

// -- documents ------------------------------------------------------------------------------
const docsState = { loaded: false, offset: 0, total: 0 };

async function loadDocs(reset) {
  const list = document.getElementById("docs-list");
  const summary = document.getElementById("docs-summary");
  const more = document.getElementById("docs-more");
  if (reset) {
    docsState.offset = 0;
    list.replaceChildren();
    summary.textContent = "Đang tải danh sách…";
  }
  let page;
  try {
    page = await api("GET", `/api/docs?offset=${docsState.offset}&limit=${DOCS_PAGE}`);
  } catch (e) {
    summary.replaceChildren(errorBox(e.message));
    return;
  }
  docsState.loaded = true;
  docsState.total = page.total;
  docsState.offset += page.documents.length;
  summary.textContent = page.total
    ? `${numberFmt.format(page.total)} tài liệu, theo thứ tự nạp.`
    : "Chưa có tài liệu nào. Hãy tải bài lên.";
  for (const d of page.documents) {
    list.append(el("li", { class: "doc" },
      el("a", { href: articleHref(d.doc_id), class: "doc-title", text: docName(d) }),
      el("p", { class: "meta", text: joinMeta(d.outlet, fmtDate(d.date), `${d.n_sentences} câu`) }),
      el("p", { class: "doc-source" }, el("span", { class: "visually-hidden", text: "Tệp: " }), d.source)));
  }
  more.hidden = docsState.offset >= docsState.total;
}

async function refreshCount() {
  try {
    const h = await api("GET", "/healthz");
    document.getElementById("doc-count").textContent = `${numberFmt.format(h.documents)} bài`;
  } catch (e) { /* the header count is a nicety */ }
}

// -- upload ------------------------------------------------------------------------------------
function fileResult(r) {
  let status;
  if (r.failed.length) status = el("span", { class: "bad", text: "✗ Lỗi" });
  else if (r.ingested.length) status = el("span", { class: "good", text: `✓ Đã nạp ${r.ingested.length} bài` });
  else status = el("span", { class: "same", text: "Đã có, bỏ qua" });
  const extra = [];
  if (r.ingested.length && r.duplicates.length) extra.push(`${r.duplicates.length} bài trùng bỏ qua`);
  return el("li", { class: "file-result" },
    el("strong", { text: r.file }), " ", status, extra.length ? ` (${extra.join(", ")})` : "",
    r.failed.length ? el("ul", {}, r.failed.map((f) => el("li", { class: "reason", text: failureText(f) }))) : null,
    r.notes.length ? el("ul", {}, r.notes.map((n) => el("li", { class: "hint", text: noteText(n) }))) : null);
}

// "ban-tin.jsonl#L3": the line of a JSON Lines file; the file itself is already named above.
function failureText(f) {
  const line = /#L(\d+)$/.exec(f.source || "");
  return (line ? `dòng ${line[1]}: ` : "") + viMessage(f.reason);
}

// A note is "SOURCE: note; note" (hoidap.ingest.read): each kind said in Vietnamese.
const NOTES = [
  [/decoded as ([^;]*)/, "đã đọc theo bảng mã $1"],
  [/mojibake \(UTF-8 read as Windows-1252\) repaired/, "đã sửa lỗi phông (UTF-8 bị đọc nhầm thành Windows-1252)"],
  [/mojibake \(UTF-8 read as another encoding\) partly repaired; check the text/, "đã sửa một phần lỗi phông; hãy kiểm tra lại nội dung"],
  [/looks like mojibake \(UTF-8 read as another encoding\) that could not be repaired/, "có vẻ bị lỗi phông mà không sửa được"],
  [/does not look Vietnamese \(only (\d+%) of (\d+) words are\); ingested, but answers are tuned for Vietnamese/,
   "có vẻ không phải tiếng Việt (chỉ $1 trong $2 từ); vẫn nạp, nhưng câu trả lời được tinh chỉnh cho tiếng Việt"],
];

function noteText(n) {
  return NOTES.reduce((text, [re, vi]) => text.replace(re, vi), n);
}

function uploadDone(data) {
  const out = document.getElementById("upload-result");
  out.replaceChildren(
    el("p", { class: data.failed ? "notice" : "done", role: "status",
      text: `Đã nạp ${data.ingested} bài mới, bỏ qua ${data.duplicates} bài đã có, ${data.failed} lỗi.` }),
    el("ul", { class: "file-results" }, data.files.map(fileResult)));
  document.getElementById("upload-form").reset();
  document.getElementById("file-names").textContent = "Chưa chọn tệp nào";
  docsState.loaded = false;
  articleCache.clear();
  refreshCount();
}

// After the upload: the server ingests the files as a job; its progress is asked for
// every JOB_POLL_MS until it is done (its report) or failed (why).
async function followJob(job, bar, label) {
  for (;;) {
    const p = job.progress;
    bar.value = p.files_total ? Math.round((100 * p.files_done) / p.files_total) : 0;
    label.textContent = job.state === "queued"
      ? "Đang chờ lượt nạp bài…"
      : `Đang nạp bài… ${p.files_done}/${p.files_total} tệp, ${p.articles} bài`;
    if (job.state === "done") return job.report;
    if (job.state === "failed") throw new Error(viMessage(job.message));
    await new Promise((r) => setTimeout(r, JOB_POLL_MS));
    job = await api("GET", `/api/jobs/${encodeURIComponent(job.id)}`);
  }
}

function upload(files) {
  const out = document.getElementById("upload-result");
  const box = document.getElementById("upload-progress");
  const bar = document.getElementById("upload-bar");
  const label = document.getElementById("upload-label");
  const button = document.querySelector("#upload-form button");
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name);
  out.replaceChildren();
  box.hidden = false;
  bar.value = 0;
  label.textContent = "Đang tải lên… 0%";
  button.disabled = true;
  const finish = (content) => {
    button.disabled = false;
    box.hidden = true;
    if (content) out.replaceChildren(content);
  };
  // XMLHttpRequest, not fetch: only it reports upload progress.
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/ingest");
  for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
  xhr.responseType = "json";
  xhr.upload.addEventListener("progress", (e) => {
    if (!e.lengthComputable) return;
    const pct = Math.round((100 * e.loaded) / e.total);
    bar.value = pct;
    label.textContent = pct < 100 ? `Đang tải lên… ${pct}%` : "Đang chờ lượt nạp bài…";
  });
  xhr.addEventListener("loadend", async () => {
    const data = xhr.response;
    if (xhr.status !== 202 || !data || !data.id) {
      if (xhr.status === 401) showTokenForm();
      finish(errorBox(data && data.message ? viMessage(data.message)
        : (xhr.status ? `mã lỗi ${xhr.status}` : "Không kết nối được máy chủ.")));
      return;
    }
    try {
      const report = await followJob(data, bar, label);
      finish(null);
      uploadDone(report);
    } catch (e) {
      finish(errorBox(e.message));
    }
  });
  xhr.send(form);
}

// -- the API token (when the server asks for one) ----------------------------------------------
function showTokenForm() {
  document.getElementById("token-form").hidden = false;
}

async function checkServer() {
  try {
    const res = await fetch("/healthz");
    const h = await res.json();
    if (h.token_required && !sessionStorage.getItem(TOKEN_KEY)) showTokenForm();
    if (h.read_only) document.querySelector('nav a[data-view="tai-len"]').hidden = true;
  } catch (e) { /* the views say so when they cannot reach the server */ }
}

// -- wiring ------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("ask-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = document.getElementById("question").value.trim();
    if (q) ask(q);
  });
  document.getElementById("brief-form").addEventListener("submit", (e) => {
    e.preventDefault();
    brief(document.getElementById("topic").value.trim());  // empty: the whole collection
  });
  document.getElementById("upload-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const files = document.getElementById("files").files;
    if (files.length) upload(files);
  });
  const files = document.getElementById("files");
  const showNames = () => {
    const names = Array.from(files.files, (f) => f.name);
    document.getElementById("file-names").textContent = names.length
      ? `${names.length} tệp: ${names.slice(0, 5).join(", ")}${names.length > 5 ? ", …" : ""}`
      : "Chưa chọn tệp nào";
  };
  files.addEventListener("change", showNames);
  const drop = document.getElementById("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    files.files = e.dataTransfer.files;
    showNames();
  });
  document.getElementById("docs-more").addEventListener("click", () => loadDocs(false));
  document.getElementById("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = document.getElementById("token").value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    document.getElementById("token-form").hidden = true;
    refreshCount();
  });
  document.getElementById("back").addEventListener("click", () => {
    if (history.length > 1) history.back();
    else location.hash = "#hoi";
  });
  window.addEventListener("hashchange", route);
  loadMessages().then(() => { route(); refreshCount(); checkServer(); });
});

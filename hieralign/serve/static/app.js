"use strict";
// hieralign workbench: plain JS talking to the same server's /v1 API.
const $ = (id) => document.getElementById(id);
const tokenInput = $("token");
tokenInput.value = localStorage.getItem("hieralign-token") || "";
tokenInput.addEventListener("change", () => { localStorage.setItem("hieralign-token", tokenInput.value); refreshStatus(); });

function authHeaders() {
  return tokenInput.value ? { Authorization: "Bearer " + tokenInput.value } : {};
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...authHeaders(), ...(options.headers || {}) } });
  const body = await response.json().catch(() => ({ detail: response.statusText }));
  if (!response.ok) {
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    throw new Error(`${response.status}: ${detail}`);
  }
  return body;
}

function showError(id, error) {
  const box = $(id);
  box.hidden = !error;
  box.textContent = error ? String(error.message || error) : "";
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function refreshStatus() {
  try {
    const health = await api("/healthz");
    for (const [key, label] of [["char_model", "char"], ["line_model", "line"]]) {
      const pill = $("status-" + label);
      pill.textContent = (label === "char" ? "characters: " : "lines: ") + (health[key] ? "ready" : "not loaded");
      pill.className = "pill " + (health[key] ? "ok" : "off");
    }
  } catch (e) { $("status-char").textContent = "server unreachable"; }
}

// ---- drawing canvas (pointer events: mouse, pen and touch alike) ----
// The strokes are kept as point lists and re-drawn for sending on a 64 px canvas like a training
// glyph: the drawing's bounding box fitted into 56 px (64 minus the 4 px margin) keeping its aspect
// ratio, so a thin 一 or 丨 stays thin (never stretched), with a fixed line width close to a
// printed stroke at that size whatever the pen size or the size it was drawn at.
const canvas = $("canvas");
const ctx = canvas.getContext("2d");
const SEND = { size: 64, margin: 4, line: 3.5 };
let drawing = false, timer = null, paths = [];
function clearCanvas() {
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
  paths = []; $("char-results").replaceChildren(); $("char-detail").hidden = true; showError("char-error", null);
}
function point(e) {
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
}
canvas.addEventListener("pointerdown", (e) => {
  drawing = true; canvas.setPointerCapture(e.pointerId); clearTimeout(timer);
  ctx.strokeStyle = "#000"; ctx.lineCap = ctx.lineJoin = "round"; ctx.lineWidth = Number($("pen").value);
  const [x, y] = point(e); ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 0.1, y + 0.1); ctx.stroke();
  paths.push([[x, y]]);
});
canvas.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  const [x, y] = point(e); ctx.lineTo(x, y); ctx.stroke();
  paths[paths.length - 1].push([x, y]);
});
function endStroke() {
  if (!drawing) return;
  drawing = false;
  clearTimeout(timer); timer = setTimeout(recognizeCanvas, 450);  // recognise after a short pause
}
canvas.addEventListener("pointerup", endStroke);
canvas.addEventListener("pointercancel", endStroke);
$("clear").addEventListener("click", clearCanvas);
$("recognize").addEventListener("click", recognizeCanvas);

function glyphCanvas() {
  const pts = paths.flat();
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs), y0 = Math.min(...ys), w = Math.max(...xs) - x0, h = Math.max(...ys) - y0;
  const inner = SEND.size - 2 * SEND.margin - SEND.line;  // the line's own width stays inside the box
  const scale = inner / Math.max(w, h, 1e-3);  // one scale for both axes: the aspect ratio is kept
  const ox = (SEND.size - w * scale) / 2, oy = (SEND.size - h * scale) / 2;
  const out = document.createElement("canvas");
  out.width = out.height = SEND.size;
  const g = out.getContext("2d");
  g.fillStyle = "#fff"; g.fillRect(0, 0, SEND.size, SEND.size);
  g.strokeStyle = "#000"; g.lineCap = g.lineJoin = "round"; g.lineWidth = SEND.line;
  for (const path of paths) {
    g.beginPath();
    path.forEach(([x, y], i) => (i ? g.lineTo : g.moveTo).call(g, ox + (x - x0) * scale, oy + (y - y0) * scale));
    if (path.length === 1) g.lineTo(ox + (path[0][0] - x0) * scale + 0.1, oy + (path[0][1] - y0) * scale + 0.1);
    g.stroke();
  }
  return out;
}

function recognizeCanvas() {
  if (!paths.length) return;
  glyphCanvas().toBlob((blob) => recognizeBlob(blob, "canvas.png"), "image/png");
}

async function recognizeBlob(blob, name) {
  const form = new FormData();
  form.append("images", blob, name);
  form.append("top_k", $("topk").value || "5");
  if ($("candidates").value) form.append("candidates", $("candidates").value);
  if ($("descriptors").value) form.append("descriptors", $("descriptors").value);
  showError("char-error", null);
  try {
    const body = await api("/v1/recognize", { method: "POST", body: form });
    renderCandidates(body.results[0] || []);
  } catch (e) { showError("char-error", e); }
}

const DECIDED = { glyphs: "reference glyphs", decomposition: "decomposition" };

function scoreLine(c) {
  const parts = [`U+${c.char.codePointAt(0).toString(16).toUpperCase()}`, `score ${c.score.toFixed(3)}`];
  if (c.glyph_score != null) parts.push(`glyph ${c.glyph_score.toFixed(3)}`);
  if (c.decomposition_score != null) parts.push(`decomposition ${c.decomposition_score.toFixed(3)}`);
  return parts.join(" · ");
}

function renderCandidates(candidates) {
  const list = $("char-results");
  list.replaceChildren();
  const best = Math.max(1e-6, ...candidates.map((c) => c.score));
  for (const c of candidates) {
    const item = el("li", "cand");
    item.dataset.char = c.char;
    item.dataset.descriptor = c.descriptor || "decomposition";
    item.append(el("div", "glyph", c.char));
    const info = el("div");
    const bar = el("div", "score"); const fill = el("div");
    fill.style.width = Math.max(2, 100 * Math.max(0, c.score) / best) + "%"; bar.append(fill);
    const decided = el("span", "decided " + item.dataset.descriptor, "decided by " + DECIDED[item.dataset.descriptor]);
    decided.title = "the descriptor whose weighted cosine contributed most to the fused score";
    const meta = el("div", "meta", scoreLine(c) + " ");
    meta.append(decided);
    info.append(meta, bar, renderDecomposition({ ids: c.decomposition, tree: c.tree }));
    item.append(info);
    item.addEventListener("click", () => showCharacter(c.char));
    list.append(item);
  }
}

// A decomposition is shown as its IDS string plus the tree drawn as nested boxes: operator on
// top, components below. The page ships no font for the IDS operators (U+2FF0..2FFF) and most
// system fonts have none, so each operator is drawn as a small inline SVG of its layout, with the
// character itself as its accessible name (copying the text still gives the real operator).
const OPERATORS = { "⿰": "left | right", "⿱": "top / bottom", "⿲": "left | mid | right", "⿳": "top / mid / bottom",
  "⿴": "surround", "⿵": "open below", "⿶": "open above", "⿷": "open right", "⿸": "upper left",
  "⿹": "upper right", "⿺": "lower left", "⿻": "overlap", "⿼": "open left", "⿽": "lower right", "⿾": "mirror",
  "⿿": "rotate" };
// SVG path data per operator on a 12x12 box (outer frame + the inner split).
const OP_PATHS = {
  "⿰": "M1 1h10v10H1zM6 1v10", "⿱": "M1 1h10v10H1zM1 6h10", "⿲": "M1 1h10v10H1zM4.3 1v10M7.7 1v10",
  "⿳": "M1 1h10v10H1zM1 4.3h10M1 7.7h10", "⿴": "M1 1h10v10H1zM4 4h4v4H4z", "⿵": "M1 11V1h10v10M4 11V4h4v7",
  "⿶": "M1 1v10h10V1M4 1v7h4V1", "⿷": "M11 1H1v10h10M11 4H4v4h7", "⿸": "M11 1H1v10M11 4H4v7",
  "⿹": "M1 1h10v10M1 4h7v7", "⿺": "M1 1v10h10M4 1v7h7", "⿻": "M1 1h7v7H1zM4 4h7v7H4z",
  "⿼": "M1 1h10v10H1M1 4h7v4H1", "⿽": "M1 11h10V1M1 8h7V1", "⿾": "M1 1h10v10H1zM6 1v10M3 4l-1 2 1 2",
  "⿿": "M1 1h10v10H1zM4 3a3 3 0 1 0 4 0",
};
const SVG_NS = "http://www.w3.org/2000/svg";

function operatorIcon(op) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 12 12"); svg.setAttribute("class", "ids-op");
  svg.setAttribute("role", "img"); svg.setAttribute("aria-label", `${op} ${OPERATORS[op]}`);
  const title = document.createElementNS(SVG_NS, "title"); title.textContent = `${op} ${OPERATORS[op]}`;
  const path = document.createElementNS(SVG_NS, "path"); path.setAttribute("d", OP_PATHS[op]);
  svg.append(title, path);
  return svg;
}

function idsString(ids) {
  const span = el("span", "ids-string");
  span.dataset.ids = ids;
  for (const ch of Array.from(ids)) span.append(OP_PATHS[ch] ? operatorIcon(ch) : document.createTextNode(ch));
  return span;
}

function renderDecomposition(d) {
  const box = el("div", "ids");
  if (!d) return box;
  if (typeof d === "string") { box.append(idsString(d)); return box; }
  if (d.ids) box.append(el("span", "meta", "IDS "), idsString(d.ids));
  if (d.tree && typeof d.tree === "object") {  // a bare leaf (an atomic character) needs no tree
    const tree = el("div", "tree"); tree.append(renderNode(d.tree)); box.append(tree);
  }
  return box;
}

function renderNode(node) {
  if (typeof node === "string") return el("span", "leaf", node);
  const op = node.op || node.operator || "";
  const wrap = el("div", "node");
  const label = el("div", "op");
  if (OP_PATHS[op]) label.append(operatorIcon(op), " ");
  label.append(OPERATORS[op] || op);
  label.title = op;
  const kids = el("div", "kids");
  for (const child of node.children || []) kids.append(renderNode(child));
  wrap.append(label, kids);
  return wrap;
}

function renderModels(models) {
  const parts = [];
  if (models.char_model) {
    const known = models.char_model.in_default_candidates;
    parts.push(`character model: ${known ? "among its default candidates" : "zero-shot candidate (not in its default set)"}`);
  }
  if (models.line_model) parts.push("line model: can encode it");
  return el("div", "meta", parts.join(" · "));
}

async function showCharacter(ch) {
  const box = $("char-detail");
  try {
    const info = await api("/v1/characters/" + encodeURIComponent(ch));
    const head = el("div", "detail-head");
    head.append(el("div", "glyph", ch), el("div", "meta",
      `${info.codepoint} · ${info.stroke_count || "?"} strokes · in ${(info.in_charsets || []).join(", ") || "no listed charset"}`));
    box.replaceChildren(head, renderDecomposition(info), renderModels(info.models || {}));
    box.hidden = false;
  } catch (e) { showError("char-error", e); }
}

// ---- drag and drop ----
function dropTarget(zone, onFile) {
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault(); zone.classList.remove("over");
    const file = e.dataTransfer.files[0];
    if (file) onFile(file);
  });
}
dropTarget($("drop-char"), (f) => { clearTimeout(timer); recognizeBlob(f, f.name); });
$("char-file").addEventListener("change", (e) => e.target.files[0] && recognizeBlob(e.target.files[0], e.target.files[0].name));

// ---- lines: text -> line images, line image -> texts ----
const objectUrls = [];
async function lineImage(url) {
  const img = el("img");
  img.alt = "line image";
  if (!url) return img;
  try {
    const response = await fetch(url, { headers: authHeaders() });  // fetch, so the token header is sent
    if (response.ok) { const u = URL.createObjectURL(await response.blob()); objectUrls.push(u); img.src = u; }
  } catch (e) { /* leave the image empty */ }
  return img;
}

// A hit's transcription with the matched span (line-OCR text search: [start, end) offsets) in <mark>.
function spannedText(text, span) {
  const box = el("div", "text");
  if (!span || span.length !== 2 || span[1] <= span[0]) { box.textContent = text; return box; }
  const chars = Array.from(text);  // offsets count code points, as the server's Python strings do
  box.append(chars.slice(0, span[0]).join(""), el("mark", "span", chars.slice(span[0], span[1]).join("")),
    chars.slice(span[1]).join(""));
  return box;
}

async function renderLines(lines) {
  while (objectUrls.length) URL.revokeObjectURL(objectUrls.pop());
  const list = $("line-results");
  list.replaceChildren();
  for (const hit of lines) {
    const item = el("li", "line");
    item.append(await lineImage(hit.image_url), spannedText(hit.text || "", hit.span),
      el("div", "meta", hit.score == null ? "" : "score " + hit.score.toFixed(3)));
    list.append(item);
  }
}

$("text-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("text-query").value.trim();
  if (!text) return;
  showError("line-error", null); $("text-results").replaceChildren(); $("line-query").hidden = true;
  try {
    const body = await api("/v1/search/text", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text, k: 8 }) });
    await renderLines(body.lines);
    if (!body.lines.length) showError("line-error", "no lines found");
  } catch (err) { showError("line-error", err); }
});

async function searchLineImage(file) {
  const form = new FormData();
  form.append("image", file, file.name || "line.png");
  form.append("k", "8");
  showError("line-error", null);
  const query = $("line-query");
  query.replaceChildren(el("div", "meta", "query"), Object.assign(el("img"), { src: URL.createObjectURL(file) }));
  query.hidden = false;
  try {
    const body = await api("/v1/search/image", { method: "POST", body: form });
    if (body.transcription) {  // line-OCR: what the model read in the dropped line
      query.append(el("div", "meta", "transcription"), el("div", "transcription", body.transcription.text || "(nothing read)"));
    }
    const texts = $("text-results");
    texts.replaceChildren(...body.texts.map((t) => el("li", null, t.text + (t.score == null ? "" : `  (${t.score.toFixed(3)})`))));
    await renderLines(body.lines);
  } catch (err) { showError("line-error", err); }
}
dropTarget($("drop-line"), searchLineImage);
$("line-file").addEventListener("change", (e) => e.target.files[0] && searchLineImage(e.target.files[0]));

clearCanvas();
refreshStatus();

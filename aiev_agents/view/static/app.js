/* aiev view: overview, list and dialogue pages of one run. Plain JS, no build step.
 *
 * Two data sources with one interface: the local server's JSON API, or the run's data inlined
 * in the page (`aiev view --html`), filtered here. Routes live in the URL hash, so every page
 * and every filter has a permalink: #/ (overview), #/list?<filters>, #/d/<id>?<filters>&pos=N.
 * Record text is only ever put into the page as text (textContent), never as HTML.
 */
"use strict";

const FILTERS = ["verified", "status", "rounds", "model", "stage", "q", "sort", "order"];
const PAGE_SIZE = 50;

// ---- data sources ---------------------------------------------------------------------------

function serverSource() {
  const get = async (path, params) => {
    const query = new URLSearchParams(params || {}).toString();
    const response = await fetch(path + (query ? "?" + query : ""));
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  };
  return {
    overview: () => get("/api/overview"),
    list: (params) => get("/api/dialogues", params),
    dialogue: (params) => get("/api/dialogue", params),
  };
}

function embeddedSource(data) {
  const SORTS = { line: "seq", id: "id", rounds: "rounds", status: "status", ended: "ended_at" };
  const matches = (row, p) =>
    (!p.verified || row.verified === (p.verified === "yes")) &&
    (!p.status || row.status === p.status) &&
    (!p.stage || row.stage === p.stage) &&
    (!p.rounds || row.rounds === Number(p.rounds)) &&
    (!p.model || row.models.includes(p.model)) &&
    (!p.q || row.search.includes(p.q.trim().toLowerCase()));
  const list = async (p) => {
    const key = SORTS[p.sort || "line"] || "seq";
    const sign = p.order === "desc" ? -1 : 1;
    const found = data.rows.filter((row) => matches(row, p));
    found.sort((a, b) => (a[key] < b[key] ? -sign : a[key] > b[key] ? sign : a.seq - b.seq));
    const offset = Number(p.offset || 0);
    const limit = Number(p.limit || PAGE_SIZE);
    return { total: found.length, offset, limit, rows: found.slice(offset, offset + limit), facets: data.facets };
  };
  const dialogue = async (p) => {
    const seq = p.seq !== undefined ? Number(p.seq) : (data.rows.find((row) => row.id === p.id) || {}).seq;
    if (seq === undefined || !data.dialogues[seq]) throw new Error("no dialogue with id " + JSON.stringify(p.id));
    return data.dialogues[seq];
  };
  return { overview: async () => data.overview, list, dialogue };
}

const dataElement = document.getElementById("aiev-data");
const source = dataElement ? embeddedSource(JSON.parse(dataElement.textContent)) : serverSource();

// ---- small DOM helpers ----------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function codeBlock(code, lang) {
  const node = el("code", { class: "language-" + (hljs.getLanguage(lang) ? lang : "plaintext") }, code);
  if (code.length < 200000) hljs.highlightElement(node);
  return el("pre", { class: "code" }, node);
}

function badge(row) {
  const kind = row.verified === true ? "ok" : row.status === "malformed" ? "bad" : "no";
  return el("span", { class: "badge " + kind }, row.verified === true ? "verified" : row.status || "?");
}

function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  return { path, params: Object.fromEntries(new URLSearchParams(query || "")) };
}

function filterParams(params) {
  return Object.fromEntries(FILTERS.filter((key) => params[key]).map((key) => [key, params[key]]));
}

function hashOf(path, params) {
  const query = new URLSearchParams(params).toString();
  return "#" + path + (query ? "?" + query : "");
}

const app = document.getElementById("app");
let current = { keys: null };
let navigations = 0; // next/previous requests made, so that only the latest one moves the page

async function show() {
  const { path, params } = route();
  current = { keys: null };
  document.body.dataset.page = path.startsWith("/d/") ? "dialogue" : path.startsWith("/list") ? "list" : "overview";
  try {
    if (path.startsWith("/d/")) await showDialogue(decodeURIComponent(path.slice(3)), params);
    else if (path.startsWith("/list")) await showList(params);
    else await showOverview();
  } catch (error) {
    app.replaceChildren(el("p", { class: "error" }, "error: " + error.message));
  }
}

// ---- overview -------------------------------------------------------------------------------

const CHART_COLORS = ["#2f7d32", "#c62828", "#1565c0", "#ef6c00", "#6a1b9a", "#00838f", "#9e9d24", "#5d4037"];

function chart(title, config) {
  const canvas = el("canvas", { "aria-label": title });
  const box = el("figure", { class: "chart" }, el("figcaption", {}, title), canvas);
  config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options);
  setTimeout(() => new Chart(canvas, config), 0);
  return box;
}

async function showOverview() {
  const data = await source.overview();
  const report = data.report;
  document.getElementById("source").textContent = data.source;
  const c = report.counts;
  const failures = Object.entries(report.failures).filter(([, n]) => n > 0);
  const per = report.usage.per_verified_sample;
  const points = data.throughput.points;
  const counts = el("table", { class: "counts" },
    ...[["dialogues", c.dialogues], ["verified", c.verified], ["not verified", c.not_verified],
      ["lost to model errors", c.model_error_records], ["lines not read (malformed)", c.skipped_lines],
      ["verified rate", report.verified_rate === null ? "–" : (100 * report.verified_rate).toFixed(1) + " %"],
      ["mean rounds", report.mean_rounds ?? "–"],
      ["cost per verified sample (USD)", per ? per.cost.toFixed(4) : "–"]]
      .map(([name, value]) => el("tr", {}, el("th", {}, name), el("td", {}, value))));
  const charts = el("div", { class: "charts" },
    chart("Verified", { type: "doughnut", data: { labels: ["verified", "not verified"],
      datasets: [{ data: [c.verified, c.not_verified], backgroundColor: CHART_COLORS.slice(0, 2) }] } }),
    chart("Verified by round (cumulative rate)", { type: "line", data: {
      labels: report.pass_at_round.map((row) => "round " + row.round),
      datasets: [{ label: "rate", data: report.pass_at_round.map((row) => row.rate), borderColor: CHART_COLORS[2] }] },
      options: { scales: { y: { min: 0, max: 1 } } } }),
    chart("Failure categories", { type: "bar", data: { labels: failures.map(([name]) => name),
      datasets: [{ label: "dialogues", data: failures.map(([, n]) => n), backgroundColor: CHART_COLORS[1] }] },
      options: { indexAxis: "y" } }),
    chart("Tokens per verified sample", { type: "bar", data: { labels: ["prompt", "completion"],
      datasets: [{ label: "tokens", data: per ? [per.prompt_tokens, per.completion_tokens] : [0, 0],
        backgroundColor: CHART_COLORS[3] }] } }),
    chart("Throughput (per " + (data.throughput.interval_s ?? "–") + " s)", { type: "line", data: {
      labels: points.map((p) => p.minute + " min"),
      datasets: [{ label: "dialogues", data: points.map((p) => p.dialogues), borderColor: CHART_COLORS[2] },
        { label: "verified", data: points.map((p) => p.verified), borderColor: CHART_COLORS[0] }] } }));
  const statuses = el("p", {}, "Statuses: ", Object.entries(report.statuses).map(([status, n]) =>
    el("a", { href: hashOf("/list", { status }), class: "status-link" }, `${status} ${n}`)));
  app.replaceChildren(el("h1", {}, "Overview"), counts, statuses, charts);
}

// ---- list -----------------------------------------------------------------------------------

function select(name, label, values, params, anyText) {
  const options = [el("option", { value: "" }, anyText || label + ": any")];
  for (const [value, n] of Object.entries(values)) {
    const text = typeof n === "number" ? `${value} (${n})` : n; // a count, or the option's name
    options.push(el("option", { value, selected: params[name] === value }, text));
  }
  return el("select", { name, onchange: (event) => setFilter(params, name, event.target.value) }, options);
}

function setFilter(params, name, value) {
  const next = filterParams(params);
  if (value) next[name] = value;
  else delete next[name];
  location.hash = hashOf("/list", next);
}

async function showList(params) {
  const offset = Number(params.offset || 0);
  const data = await source.list({ ...filterParams(params), offset, limit: PAGE_SIZE });
  const f = data.facets;
  const search = el("input", { type: "search", name: "q", placeholder: "text in problem or code", value: params.q || "" });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") setFilter(params, "q", search.value.trim());
  });
  const controls = el("div", { class: "filters" },
    select("verified", "verified", f.verified, params), select("status", "status", f.status, params),
    select("rounds", "rounds", f.rounds, params), select("model", "model", f.model, params),
    select("stage", "stage", f.stage, params), search,
    select("sort", "sort", { id: "id", rounds: "rounds", status: "status", ended: "end time" }, params, "sort: file order"),
    select("order", "order", { desc: "descending" }, params, "order: ascending"));
  const rows = data.rows.map((row, i) => {
    const pos = offset + i;
    const href = hashOf("/d/" + encodeURIComponent(row.id), { ...filterParams(params), pos, seq: row.seq });
    return el("tr", { "data-href": href, class: row.note ? "noted" : null, onclick: () => (location.hash = href) },
      el("td", {}, el("a", { href }, row.id)), el("td", {}, badge(row)), el("td", {}, row.rounds),
      el("td", {}, row.models.join(", ")), el("td", {}, row.language), el("td", {}, row.source),
      el("td", {}, row.stage), el("td", { class: "first-line" }, row.first_line, row.note ? el("em", {}, " ⚠ " + row.note) : ""));
  });
  const table = el("table", { class: "list" },
    el("thead", {}, el("tr", {}, ...["id", "status", "rounds", "models", "language", "seed source", "stage", "problem"]
      .map((name) => el("th", {}, name)))), el("tbody", {}, rows));
  const pager = el("p", { class: "pager" },
    offset > 0 ? el("a", { href: hashOf("/list", { ...filterParams(params), offset: Math.max(0, offset - PAGE_SIZE) }) }, "← previous") : "",
    ` ${data.total ? offset + 1 : 0}–${offset + data.rows.length} of ${data.total} `,
    offset + PAGE_SIZE < data.total ? el("a", { href: hashOf("/list", { ...filterParams(params), offset: offset + PAGE_SIZE }) }, "next →") : "");
  app.replaceChildren(el("h1", {}, "Dialogues"), controls, el("p", { id: "total" }, `${data.total} match`), table, pager);
  let selected = 0;
  const mark = () => rows.forEach((row, i) => row.classList.toggle("selected", i === selected));
  mark();
  current.keys = (key) => {
    if (key === "j" || key === "ArrowDown") selected = Math.min(rows.length - 1, selected + 1);
    else if (key === "k" || key === "ArrowUp") selected = Math.max(0, selected - 1);
    else if (key === "Enter" && rows[selected]) location.hash = rows[selected].dataset.href;
    else return;
    mark();
  };
}

// ---- dialogue -------------------------------------------------------------------------------

function turnBox(turn) {
  const body = turn.segments.map((part) => (part.code !== undefined ? codeBlock(part.code, part.lang)
    : el("pre", { class: turn.name === "executor" ? "output" : "text" }, part.text)));
  const who = el("div", { class: "who" }, `${turn.name} (${turn.role})`, turn.call_id ? el("code", { class: "call-id" }, turn.call_id) : "");
  if (turn.role === "system") return el("details", { class: "turn system" }, el("summary", {}, `system prompt of ${turn.name}`), body);
  return el("div", { class: "turn " + turn.role }, who, body);
}

function executionBox(run) {
  const facts = [["exit code", run.exit_code], ["status", run.status], ["duration", `${run.duration_s ?? "?"} s`],
    ["test assertions", run.assertions], ["test cases", run.test_cases], ["solution asserts", run.solution_assertions],
    ["solution functions", (run.solution_functions || []).join(", ")], ["called", (run.solution_calls || []).join(", ")],
    ["packages", (run.packages || []).join(", ") || "none"]];
  const output = el("pre", { class: "output" }, run.output || "(no output)");
  return el("section", { class: "execution " + run.status, "data-round": run.round },
    el("h3", {}, `Run of round ${run.round}: `, el("span", { class: "badge " + (run.status === "pass" ? "ok" : "no") }, run.status)),
    el("table", { class: "facts" }, facts.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v ?? "–")))),
    output, run.truncated ? el("p", { class: "truncated" }, "[output truncated at the sandbox's limit]") : "",
    run.install_output ? el("details", {}, el("summary", {}, "pip output"), el("pre", { class: "output" }, run.install_output)) : "",
    run.hidden_tests ? el("details", { open: true }, el("summary", {}, "hidden tests: " + run.hidden_tests.status),
      el("pre", { class: "output" }, JSON.stringify(run.hidden_tests, null, 2))) : "");
}

async function showDialogue(id, params) {
  const query = params.seq !== undefined ? { seq: params.seq } : { id };
  const d = await source.dialogue(query);
  const parts = [el("h1", {}, d.id, " ", badge(d))];
  if (d.problems && d.problems.length) {
    parts.push(el("div", { class: "problems" }, el("strong", {}, "Shown as far as it goes: "),
      el("ul", {}, d.problems.map((p) => el("li", {}, p)))));
  }
  if (d.raw !== undefined) {
    parts.push(el("h2", {}, `Line ${d.line_no} as written`), el("pre", { class: "output raw" }, d.raw));
  } else {
    parts.push(...dialogueSections(d));
  }
  parts.push(navigation(params));
  app.replaceChildren(...parts.flat(Infinity));
}

function dialogueSections(d) {
  const models = Object.entries(d.models || {}).map(([role, name]) => `${role}: ${name}`).join(", ");
  const seed = d.seed || {};
  return [
    el("p", { class: "meta" }, `status ${d.status}, ${d.rounds} round(s), stage ${d.stage}, line ${d.line_no}; `,
      `models ${models || "–"}; seed ${seed.id ?? "–"} (${seed.source || (seed.snippet ? "snippet" : "problem")})`),
    el("h2", {}, "Problem"), el("pre", { class: "text" }, d.problem),
    el("h2", {}, "Conversation"), el("div", { class: "turns" }, d.messages.map(turnBox)),
    el("h2", {}, "Runs"), d.executions.length ? d.executions.map(executionBox) : el("p", {}, "No program ran."),
    el("h2", {}, "Fixes: how each program differs from the one before"),
    d.diffs.length ? d.diffs.map((diff) => el("section", { class: "diff" },
      el("h3", {}, `round ${diff.from_round} → round ${diff.to_round}`), codeBlock(diff.diff, "diff")))
      : el("p", {}, "One program only: nothing to compare."),
    el("h2", {}, "Verdict checks"), d.checks.length ? el("dl", { class: "checks" }, d.checks.map((check) => [
      el("dt", {}, check.name), el("dd", {}, el("p", {}, check.meaning), el("pre", { class: "output" }, JSON.stringify(check.value, null, 2)))]))
      : el("p", {}, "No checks recorded (the last run did not pass)."),
    d.side_turns.length ? [el("h2", {}, "Side turns (extra roles)"), el("div", { class: "turns" }, d.side_turns.map(turnBox))] : "",
    el("h2", {}, "Trace"), el("p", { class: "trace" }, d.trace.ag2_session_id
      ? `AG2 runtime log ${d.trace.ag2_log_db}, session ${d.trace.ag2_session_id}; response ids: ${d.trace.call_ids.join(", ")}`
      : `No AG2 runtime log (run with --log-db); response ids: ${d.trace.call_ids.join(", ") || "none"}`),
  ];
}

function navigation(params) {
  const filters = filterParams(params);
  const listHref = hashOf("/list", { ...filters, offset: params.pos ? Math.floor(params.pos / PAGE_SIZE) * PAGE_SIZE : 0 });
  let pos = Number(params.pos); // moves at each key press, so quick presses add up
  const go = async (step) => {
    if (params.pos === undefined || pos + step < 0) return;
    pos += step;
    const mine = ++navigations;
    const page = await source.list({ ...filters, offset: pos, limit: 1 });
    if (mine !== navigations) return; // a later press won: its answer decides where to go
    const row = page.rows[0];
    if (row) location.hash = hashOf("/d/" + encodeURIComponent(row.id), { ...filters, pos, seq: row.seq });
  };
  current.keys = (key) => {
    if (key === "n" || key === "ArrowRight" || key === "j") go(1);
    else if (key === "p" || key === "ArrowLeft" || key === "k") go(-1);
    else if (key === "u" || key === "Escape") location.hash = listHref;
  };
  return el("p", { class: "nav" }, el("a", { href: listHref }, "↑ list (u)"),
    params.pos !== undefined ? [" ", el("a", { href: "#", id: "prev", onclick: (e) => { e.preventDefault(); go(-1); } }, "← previous (p)"),
      " ", el("a", { href: "#", id: "next", onclick: (e) => { e.preventDefault(); go(1); } }, "next (n) →")] : "");
}

// ---- start ----------------------------------------------------------------------------------

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, select, textarea") || event.ctrlKey || event.metaKey || event.altKey) return;
  if (current.keys) current.keys(event.key);
});
window.addEventListener("hashchange", show);
show();

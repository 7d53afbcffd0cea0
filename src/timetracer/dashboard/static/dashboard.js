/*
 * timetracer dashboard: a table of recorded requests, filters, and one cassette's detail.
 *
 * Safety: every recorded value reaches the page as data (JSON.parse of a data block or of an
 * API answer) and leaves it as text: elements are made only by h() below, which puts strings
 * in as text nodes. Nothing here assigns HTML (no innerHTML, outerHTML, insertAdjacentHTML,
 * document.write); the page's Content-Security-Policy enforces that with Trusted Types.
 */
"use strict";

(() => {
  const PAGE_SIZE = 100;
  const POLL_MS = 5000;
  const TOKEN_HEADER = "X-Timetracer-Token";

  const byId = (id) => document.getElementById(id);

  function readJson(id) {
    const block = byId(id);
    return block ? JSON.parse(block.textContent) : null;
  }

  const config = readJson("tt-config") || {};
  const live = config.mode === "live";

  // The one way this script makes elements. Attribute names are literals of this file, never
  // data; children that are not nodes become text nodes.
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const state = {
    directory: "",
    rows: [],
    skipped: [],
    index: new Map(),
    version: null,
    view: [],
    sort: { key: "time", dir: 1 },
    page: 0,
    selected: null,
    details: new Map(),
    renders: 0,
    filterKey: "",
  };

  // ---- formatting ---------------------------------------------------------------------

  function ms(value) {
    if (typeof value !== "number") return "–";
    return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
  }

  function callsText(calls) {
    const parts = Object.entries(calls || {}).map(([system, n]) => `${n} ${system}`);
    return parts.length ? parts.join(", ") : "–";
  }

  function statusClass(status) {
    return typeof status === "number" ? `s${Math.floor(status / 100)}xx` : "snone";
  }

  function shellQuote(text) {
    return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
  }

  function pretty(value) {
    return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  }

  // ---- rows, filters and sorting ------------------------------------------------------

  function setListing(listing) {
    state.directory = listing.directory || "";
    state.skipped = listing.skipped || [];
    state.rows = (listing.rows || []).map((row, order) => ({
      ...row,
      order,
      callTotal: Object.values(row.calls || {}).reduce((a, b) => a + b, 0),
      text: `${row.route || ""}\n${row.url_path || ""}`.toLowerCase(),
    }));
    state.index = new Map(state.rows.map((row) => [row.name, row.order]));
    byId("directory").textContent = state.directory;
    document.title = `timetracer · ${state.directory}`;
    fillMethods();
    showNotice();
    update();
  }

  function fillMethods() {
    const select = byId("f-method");
    const current = select.value;
    const methods = [...new Set(state.rows.map((row) => row.method).filter(Boolean))].sort();
    if (current && !methods.includes(current)) methods.push(current);
    select.replaceChildren(
      h("option", { value: "" }, "any"),
      ...methods.map((method) => h("option", { value: method }, method)),
    );
    select.value = current;
  }

  const TIME_PREFIX = /^\d{4}(-\d{2}(-\d{2}( \d{2}(:\d{2}(:\d{2}(\.\d{1,3})?)?)?)?)?)?$/;

  function timeBound(id) {
    const input = byId(id);
    const text = input.value.trim().replace("T", " ");
    const valid = text === "" || TIME_PREFIX.test(text);
    input.setCustomValidity(valid ? "" : "Use a prefix of YYYY-MM-DD HH:MM:SS.mmm (UTC)");
    input.classList.toggle("invalid", !valid);
    return valid ? text : "";
  }

  function bound(id) {
    const text = byId(id).value.trim();
    const value = Number(text);
    return text === "" || !Number.isFinite(value) ? null : value;
  }

  function readFilters() {
    return {
      method: byId("f-method").value,
      status: byId("f-status").value,
      route: byId("f-route").value.trim().toLowerCase(),
      min: bound("f-min-ms"),
      max: bound("f-max-ms"),
      from: timeBound("f-from"),
      to: timeBound("f-to"),
      errors: byId("f-errors").checked,
    };
  }

  function keep(row, f) {
    if (f.method && row.method !== f.method) return false;
    if (f.status === "none" && row.status !== null) return false;
    if (f.status && f.status !== "none" && statusClass(row.status) !== `s${f.status}`) {
      return false;
    }
    if (f.route && !row.text.includes(f.route)) return false;
    if (f.min !== null && row.duration_ms < f.min) return false;
    if (f.max !== null && row.duration_ms > f.max) return false;
    if (f.from && row.time < f.from) return false;
    // "To" is inclusive of everything it is a prefix of: "2026-11-26" covers the whole day.
    if (f.to && row.time.slice(0, f.to.length) > f.to) return false;
    return !(f.errors && !row.is_error);
  }

  const SORT_KEYS = {
    time: (row) => row.time,
    method: (row) => row.method || "",
    route: (row) => row.route || "",
    status: (row) => (row.status === null ? -1 : row.status),
    duration: (row) => row.duration_ms,
    calls: (row) => row.callTotal,
  };

  function compare(a, b) {
    const key = SORT_KEYS[state.sort.key];
    const x = key(a);
    const y = key(b);
    if (x < y) return -state.sort.dir;
    if (x > y) return state.sort.dir;
    return a.order - b.order; // ties stay in recorded order
  }

  function update() {
    const filters = readFilters();
    state.filterKey = JSON.stringify(filters);
    state.view = state.rows.filter((row) => keep(row, filters)).sort(compare);
    renderTable();
  }

  // Typing redraws once it pauses, not on every key; data-pending tells tests a redraw is due.
  let pending = null;
  function scheduleUpdate() {
    clearTimeout(pending);
    document.body.dataset.pending = "true";
    pending = setTimeout(() => {
      // A text field also fires "change" when it loses focus; with nothing new to filter by,
      // that must not send the reader back to page 1.
      if (JSON.stringify(readFilters()) !== state.filterKey) {
        state.page = 0;
        update();
      }
      document.body.dataset.pending = "false";
    }, 60);
  }

  // ---- the table ------------------------------------------------------------------------

  function rowElement(row) {
    const classes = [row.is_error ? "error" : "", row.name === state.selected ? "selected" : ""];
    const tr = h(
      "tr",
      {
        class: classes.filter(Boolean).join(" ") || null,
        tabindex: 0,
        "aria-selected": row.name === state.selected ? "true" : "false",
        onclick: () => select(row.name),
        onkeydown: (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            select(row.name);
          }
        },
      },
      h("td", { class: "time" }, row.time),
      h("td", { class: "method" }, row.method || "–"),
      h(
        "td",
        { class: "route", title: row.path || null },
        h("span", null, row.route || ""),
        row.url_path && row.url_path !== row.route
          ? h("span", { class: "path" }, row.url_path)
          : null,
      ),
      h(
        "td",
        { class: "status" },
        h(
          "span",
          { class: `badge ${statusClass(row.status)}` },
          row.status === null ? "–" : row.status,
        ),
        row.is_error ? [" ", h("span", { class: "badge error" }, "error")] : null,
      ),
      h("td", { class: "duration num" }, `${row.duration_ms.toFixed(1)} ms`),
      h("td", { class: "calls" }, callsText(row.calls)),
    );
    tr.dataset.name = row.name;
    return tr;
  }

  function renderTable() {
    const pages = Math.max(1, Math.ceil(state.view.length / PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    const start = state.page * PAGE_SIZE;
    byId("rows").tBodies[0].replaceChildren(
      ...state.view.slice(start, start + PAGE_SIZE).map(rowElement),
    );
    const total = state.rows.length;
    byId("count").textContent =
      state.view.length === total
        ? `${total} cassette${total === 1 ? "" : "s"}`
        : `${state.view.length} of ${total} cassettes`;
    const empty = byId("empty");
    empty.hidden = state.view.length > 0;
    empty.textContent = total ? "No cassette matches the filters." : "No cassettes here yet.";
    byId("page").textContent = `page ${state.page + 1} of ${pages}`;
    byId("prev").disabled = state.page === 0;
    byId("next").disabled = state.page >= pages - 1;
    for (const th of document.querySelectorAll("#rows th[data-key]")) {
      const sorted = th.dataset.key === state.sort.key;
      const direction = state.sort.dir > 0 ? "ascending" : "descending";
      th.setAttribute("aria-sort", sorted ? direction : "none");
    }
    // For tests and tools: how many times the table was drawn, so a change can be awaited.
    state.renders += 1;
    document.body.dataset.renders = String(state.renders);
    document.body.dataset.ready = "true";
  }

  function showNotice() {
    const notice = byId("notice");
    const parts = [];
    if (state.skipped.length) {
      parts.push(
        h(
          "details",
          { class: "skipped" },
          h("summary", null, `${state.skipped.length} file(s) skipped as unreadable`),
          h(
            "ul",
            null,
            state.skipped.map((item) =>
              h("li", null, h("code", null, item.name), `: ${item.reason}`),
            ),
          ),
        ),
      );
    }
    if (config.details_omitted) {
      parts.push(
        h(
          "p",
          null,
          `${config.details_omitted} cassette(s) were listed without their details to keep this ` +
            "file small; use timetracer serve, or timetracer show, for those.",
        ),
      );
    }
    notice.replaceChildren(...parts);
    notice.hidden = parts.length === 0;
  }

  // ---- the detail view ----------------------------------------------------------------

  function select(name) {
    const hash = `#/${encodeURIComponent(name)}`;
    if (location.hash === hash) openDetail(name);
    else location.hash = hash; // the hashchange handler opens it, and Back works
  }

  function openFromHash() {
    const match = /^#\/(.+)$/.exec(location.hash);
    if (!match) return;
    let name;
    try {
      name = decodeURIComponent(match[1]);
    } catch {
      return;
    }
    openDetail(name);
  }

  async function loadDetail(name) {
    if (state.details.has(name)) return state.details.get(name);
    let detail;
    if (live) {
      const response = await fetch(`/api/cassettes/${encodeURIComponent(name)}`, {
        headers: { Accept: "application/json" },
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
      detail = body;
    } else {
      const order = state.index.get(name);
      const block = order === undefined ? null : byId(`tt-detail-${order}`);
      if (!block) return null;
      detail = JSON.parse(block.textContent);
    }
    state.details.set(name, detail);
    return detail;
  }

  async function openDetail(name) {
    state.selected = name;
    for (const tr of byId("rows").tBodies[0].rows) {
      const selected = tr.dataset.name === name;
      tr.classList.toggle("selected", selected);
      tr.setAttribute("aria-selected", selected ? "true" : "false");
    }
    const panel = byId("detail");
    delete panel.dataset.name;
    panel.replaceChildren(h("p", { class: "hint" }, "Loading…"));
    let detail;
    try {
      detail = await loadDetail(name);
    } catch (error) {
      const problem = `Could not load ${name}: ${error.message}`;
      panel.replaceChildren(h("p", { class: "problem" }, problem));
      return;
    }
    if (state.selected !== name) return; // another cassette was opened meanwhile
    const row = state.rows[state.index.get(name)];
    panel.replaceChildren(...(detail ? detailView(detail) : omittedView(row, name)));
    panel.scrollTop = 0;
    panel.dataset.name = name;
  }

  function omittedView(row, name) {
    if (!row) return [h("p", { class: "problem" }, `No cassette named ${name} here.`)];
    return [
      h("h2", null, `${row.method || ""} ${row.url_path || row.route}`),
      h("p", { class: "hint" }, "This cassette's details were not embedded in this file."),
      commandsView([{ label: "show", command: `timetracer show ${shellQuote(row.path)}` }]),
    ];
  }

  function detailView(d) {
    const request = d.request || {};
    const response = d.response || {};
    const query = request.query ? `?${request.query}` : "";
    const heading = h(
      "h2",
      { class: d.is_error ? "error" : null },
      h("span", { class: "method" }, request.method || ""),
      " ",
      h("span", { class: "target" }, `${request.url_path || ""}${query}`),
      " ",
      h("span", { class: `badge ${statusClass(response.status)}` }, response.status ?? "–"),
    );
    const meta = h(
      "dl",
      { class: "meta" },
      pair("Recorded", `${d.time} UTC`),
      pair("Duration", ms(d.duration_ms)),
      pair("Route", request.route || ""),
      pair("Trace", d.trace_id),
      pair("File", d.path || ""),
      d.error ? pair("Error", d.error, "problem") : null,
    );
    const calls = d.calls || [];
    return [
      heading,
      meta,
      live && config.replay ? section("Replay", replayControls(d.name)) : null,
      section("Spans", waterfallView(d.waterfall)),
      section(
        `Dependency calls (${calls.length})`,
        calls.length ? calls.map(callView) : h("p", { class: "hint" }, "None."),
      ),
      section("Request", exchangeView(request)),
      section("Response", exchangeView(response)),
      section("Commands", commandsView(d.commands || [])),
    ].filter(Boolean);
  }

  function pair(term, value, cls) {
    return [h("dt", null, term), h("dd", { class: cls || null }, value)];
  }

  function section(title, ...content) {
    return h("section", { class: "part" }, h("h3", null, title), ...content);
  }

  function commandsView(commands) {
    return h(
      "div",
      { class: "commands" },
      commands.map((item) => {
        const code = h("code", null, item.command);
        return h(
          "div",
          { class: "command" },
          h("span", { class: "label" }, item.label),
          code,
          copyButton(item.command, code),
        );
      }),
    );
  }

  function copyButton(text, code) {
    const button = h("button", { type: "button", class: "copy" }, "Copy");
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch {
        // No clipboard access (an old browser, a denied permission): select it for Ctrl+C.
        const range = document.createRange();
        range.selectNodeContents(code);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        button.textContent = "Press Ctrl+C";
      }
      setTimeout(() => {
        button.textContent = "Copy";
      }, 1500);
    });
    return button;
  }

  function exchangeView(side) {
    return [
      h("h4", null, "Headers"),
      headersView(side.headers),
      h("h4", null, "Body"),
      bodyView(side.body, side.body_truncated),
    ];
  }

  function headersView(headers) {
    if (!headers || !headers.length) return h("p", { class: "hint" }, "No headers recorded.");
    return h(
      "table",
      { class: "headers" },
      h(
        "tbody",
        null,
        headers.map(([name, value]) => h("tr", null, h("th", null, name), h("td", null, value))),
      ),
    );
  }

  function bodyView(body, truncated) {
    if (body === null || body === undefined) return h("p", { class: "hint" }, "No body.");
    const binary =
      body && typeof body === "object" && Object.keys(body).length === 1 && "base64" in body;
    return h(
      "div",
      { class: "body" },
      binary ? h("p", { class: "hint" }, "Binary body, shown as base64:") : null,
      h("pre", null, binary ? body.base64 : pretty(body)),
      truncated ? h("p", { class: "problem" }, "Cut at the body size cap when recorded.") : null,
    );
  }

  function callView(call, index) {
    const failed = "failure" in call;
    const target = [call.database, call.collection].filter(Boolean).join(".");
    const details = h(
      "details",
      { class: failed ? "call failed" : "call", id: `call-${index}` },
      h(
        "summary",
        null,
        h("span", { class: "n" }, `${index + 1}.`),
        h("span", { class: "system" }, call.system),
        h("span", { class: "op" }, call.operation),
        h("span", { class: "target" }, target),
        h("span", { class: "ms" }, ms(call.duration_ms)),
        failed ? h("span", { class: "badge error" }, "failed") : null,
      ),
    );
    // Documents can be large: they are laid out only when the call is opened.
    let filled = false;
    details.addEventListener("toggle", () => {
      if (!details.open || filled) return;
      filled = true;
      details.append(
        documentView("Command", call.command),
        failed ? documentView("Failure", call.failure) : documentView("Reply", call.reply),
        call.truncated
          ? h("p", { class: "problem" }, "Over the size cap when recorded: only its size was kept.")
          : null,
      );
    });
    return details;
  }

  function documentView(title, document_) {
    const missing = document_ === null || document_ === undefined;
    return h(
      "div",
      { class: "document" },
      h("h4", null, title),
      h("pre", null, missing ? "(not stored)" : pretty(document_)),
    );
  }

  function percent(fraction) {
    return `${Math.min(100, Math.max(0, fraction * 100)).toFixed(3)}%`;
  }

  function openCall(index) {
    const call = byId(`call-${index}`);
    if (!call) return;
    call.open = true;
    call.scrollIntoView({ block: "nearest" });
  }

  function waterfallView(waterfall) {
    if (!waterfall || !waterfall.spans.length) return h("p", { class: "hint" }, "No spans.");
    const total = waterfall.total_ms > 0 ? waterfall.total_ms : 1;
    const axis = h("div", { class: "wf-axis" });
    for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
      const tick = h("span", { class: "wf-tick" }, ms(total * fraction));
      tick.style.left = percent(fraction);
      axis.append(tick);
    }
    const rows = waterfall.spans.map((span) => {
      const isCall = span.call !== null && span.call !== undefined;
      const classes = ["wf-bar", `kind-${span.kind}`];
      if (isCall) classes.push("call");
      if (span.error) classes.push("error");
      const bar = h("div", {
        class: classes.join(" "),
        title: `${span.name}: ${ms(span.duration_ms)}, starting at +${ms(span.start_ms)}`,
      });
      // Positions go through the CSS object model, which the style policy allows.
      bar.style.left = percent(span.start_ms / total);
      bar.style.width = percent(span.duration_ms / total);
      const label = h("div", { class: "wf-label", title: span.name }, span.name);
      label.style.paddingLeft = `${span.depth * 12 + 4}px`;
      const row = h(
        "div",
        { class: `wf-row${span.error ? " error" : ""}` },
        label,
        h("div", { class: "wf-track" }, bar),
        h("div", { class: "wf-ms" }, ms(span.duration_ms)),
      );
      if (isCall) {
        row.classList.add("clickable");
        row.addEventListener("click", () => openCall(span.call));
      }
      row.dataset.spanId = span.span_id;
      return row;
    });
    const omitted = waterfall.omitted
      ? h("p", { class: "hint" }, `${waterfall.omitted} more span(s) not drawn.`)
      : null;
    return h(
      "div",
      { class: "waterfall" },
      h(
        "div",
        { class: "wf-row wf-head" },
        h("div", { class: "wf-label" }, "span"),
        axis,
        h("div", { class: "wf-ms" }, ""),
      ),
      rows,
      omitted,
    );
  }

  // ---- replay (live server with --app only) --------------------------------------------

  function replayControls(name) {
    const out = h("div", { class: "replay-out" });
    const button = h("button", { type: "button", class: "replay" }, `Replay against ${config.app}`);
    button.addEventListener("click", () => replay(name, button, out));
    return h("div", null, button, out);
  }

  async function replay(name, button, out) {
    button.disabled = true;
    out.replaceChildren(h("p", { class: "hint" }, "Replaying…"));
    try {
      const response = await fetch(`/api/replay/${encodeURIComponent(name)}`, {
        method: "POST",
        headers: { [TOKEN_HEADER]: config.token },
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
      out.replaceChildren(replayView(body));
    } catch (error) {
      out.replaceChildren(h("p", { class: "problem" }, `Replay failed: ${error.message}`));
    } finally {
      button.disabled = false;
    }
  }

  function listOf(title, items) {
    if (!items || !items.length) return null;
    return h(
      "div",
      { class: "replay-list" },
      h("h4", null, title),
      h(
        "ul",
        null,
        items.map((item) => h("li", null, h("pre", null, item))),
      ),
    );
  }

  function replayView(result) {
    const verdict = result.error ? "error" : result.passed ? "passed" : "failed";
    return h(
      "div",
      { class: `replay-result ${verdict}` },
      h(
        "p",
        null,
        h("span", { class: `badge verdict ${verdict}` }, verdict.toUpperCase()),
        ` ${result.method} ${result.target}: recorded ${result.recorded_status ?? "–"}, ` +
          `replayed ${result.replayed_status ?? "–"} in ${ms(result.duration_ms)}`,
      ),
      result.error ? h("pre", { class: "problem" }, result.error) : null,
      listOf("Differences", result.differences),
      listOf("Calls no recording answered", result.misses),
      listOf("Recorded calls not made", result.unused_calls),
      listOf("Noise (not counted)", result.noise),
      verdict === "passed" && !(result.noise || []).length
        ? h("p", { class: "hint" }, "The replayed response matches the recording.")
        : null,
    );
  }

  // ---- start ---------------------------------------------------------------------------

  async function fetchListing() {
    const headers = state.version ? { "If-None-Match": state.version } : {};
    const response = await fetch("/api/cassettes", { headers, cache: "no-store" });
    if (response.status === 304) return;
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
    if (state.version !== null) state.details.clear(); // files may have been rewritten
    state.version = response.headers.get("ETag");
    setListing(body);
    byId("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.version = state.version || "";
  }

  function reportProblem(error) {
    byId("updated").textContent = `could not refresh: ${error.message}`;
  }

  function wire() {
    const form = byId("filters");
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("input", scheduleUpdate);
    form.addEventListener("change", scheduleUpdate);
    form.addEventListener("reset", () => setTimeout(scheduleUpdate, 0));
    for (const button of document.querySelectorAll("#rows th button[data-sort]")) {
      button.addEventListener("click", () => {
        const key = button.dataset.sort;
        state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
        state.page = 0;
        update();
      });
    }
    byId("prev").addEventListener("click", () => {
      state.page -= 1;
      renderTable();
    });
    byId("next").addEventListener("click", () => {
      state.page += 1;
      renderTable();
    });
    window.addEventListener("hashchange", openFromHash);
  }

  async function start() {
    wire();
    if (live) {
      const refresh = byId("refresh");
      refresh.hidden = false;
      refresh.addEventListener("click", () => fetchListing().catch(reportProblem));
      try {
        await fetchListing();
      } catch (error) {
        reportProblem(error);
      }
      setInterval(() => {
        if (!document.hidden) fetchListing().catch(reportProblem);
      }, POLL_MS);
    } else {
      setListing(readJson("tt-listing") || {});
      if (config.generated_at) byId("updated").textContent = `written ${config.generated_at}`;
    }
    openFromHash();
  }

  start();
})();

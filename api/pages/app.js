// Concord's pages for risk officers: ranked hotspots of their region, each area's
// history, and a form to record what was done about a flag. Everything comes
// from the same JSON API (and the same token, kept only for this browser tab);
// data is written with textContent, never as HTML.
"use strict";

const TOKEN_KEY = "concord-token";
const view = () => document.getElementById("view");

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function api(path, options = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = Object.assign({ Authorization: `Bearer ${token}` }, options.headers || {});
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : await response.text();
  if (response.status === 401) { sessionStorage.removeItem(TOKEN_KEY); }
  if (!response.ok) throw Object.assign(new Error(body.detail || response.statusText), { status: response.status, body });
  return body;
}

function showError(error) {
  view().replaceChildren(el("p", { class: "error", role: "alert", text: `${error.status || ""} ${error.message}` }),
    el("p", {}, el("a", { href: "#/", text: "Back to hotspots" })));
}

function signIn() {
  const input = el("input", { type: "password", id: "token", autocomplete: "off", required: "" });
  const form = el("form", { class: "inline", id: "sign-in", onsubmit: (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    route();
  } }, el("label", {}, "Your token (from `concord users add`)", input), el("button", { type: "submit", text: "Sign in" }));
  view().replaceChildren(el("h2", { text: "Sign in" }), form);
}

const pct = (p) => `${(100 * p).toFixed(1)}%`;
const levelBadge = (level) => el("span", { class: `level level-${level}`, text: level });

async function hotspots(params) {
  const query = new URLSearchParams({ limit: "50" });
  for (const key of ["level", "offset"]) if (params.get(key)) query.set(key, params.get(key));
  const data = await api(`/v1/hotspots?${query}`);
  const levelSelect = el("select", { id: "level-filter", onchange: () => {
    location.hash = levelSelect.value ? `#/?level=${levelSelect.value}` : "#/";
  } }, ...["", "high", "medium", "low"].map((v) => el("option", { value: v, text: v || "all levels" })));
  levelSelect.value = params.get("level") || "";
  const rows = data.items.map((item) => el("tr", { "data-area": item.area_id },
    el("td", { text: String(item.rank) }),
    el("td", {}, el("a", { href: `#/area/${encodeURIComponent(item.area_id)}`, text: `${item.name} (${item.area_id})` })),
    el("td", {}, levelBadge(item.level)),
    el("td", { text: pct(item.probability) }),
    el("td", {}, el("ul", { class: "reasons" }, ...item.reasons.slice(0, 3).map((r) => el("li", { text: r.text || r.description })))),
    el("td", { text: item.focus.map((f) => `${f.name} (${f.family})`).join(", ") || "—" })));
  const table = el("table", { id: "hotspots" },
    el("thead", {}, el("tr", {}, ...["#", "Area", "Level", "Probability", "Why", "Recommended mediation focus"].map((h) => el("th", { text: h })))),
    el("tbody", {}, ...rows));
  const more = data.next_offset === null ? el("span") :
    el("a", { href: `#/?offset=${data.next_offset}${params.get("level") ? `&level=${params.get("level")}` : ""}`, text: "Next page" });
  view().replaceChildren(
    el("h2", { text: `Hotspots for ${data.period_start}` }),
    el("p", { class: "muted", text: `${data.total} areas scored in region ${data.region_id}; model ${data.model_version}. ` +
      "Probabilities are of an escalation (collective or cross-level petition, or a failed serious mediation) next period." }),
    el("form", { class: "inline" }, el("label", {}, "Show", levelSelect)), table, more);
}

function trend(items) {
  const scored = items.filter((i) => i.probability !== null);
  const width = 640, height = 120, pad = 20;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "trend"); svg.setAttribute("width", width); svg.setAttribute("height", height);
  svg.setAttribute("role", "img"); svg.setAttribute("aria-label", "probability of escalation by period");
  if (scored.length > 0) {
    const max = Math.max(0.05, ...scored.map((i) => i.probability));
    const x = (k) => pad + (scored.length === 1 ? 0 : (k * (width - 2 * pad)) / (scored.length - 1));
    const y = (p) => height - pad - (p / max) * (height - 2 * pad);
    const line = document.createElementNS(svg.namespaceURI, "polyline");
    line.setAttribute("points", scored.map((i, k) => `${x(k)},${y(i.probability)}`).join(" "));
    line.setAttribute("fill", "none"); line.setAttribute("stroke", "#1f3a5f"); line.setAttribute("stroke-width", "2");
    svg.append(line);
    scored.forEach((i, k) => {
      const dot = document.createElementNS(svg.namespaceURI, "circle");
      dot.setAttribute("cx", x(k)); dot.setAttribute("cy", y(i.probability)); dot.setAttribute("r", i.flagged ? 5 : 3);
      dot.setAttribute("fill", i.flagged ? "#b3261e" : "#1f3a5f");
      svg.append(dot);
    });
  }
  return svg;
}

async function area(areaId) {
  const [profile, history] = await Promise.all([
    api(`/v1/areas/${encodeURIComponent(areaId)}`), api(`/v1/areas/${encodeURIComponent(areaId)}/history`)]);
  const path = profile.ancestors.map((a) => a.name).concat(profile.name).join(" › ");
  const population = profile.population ? `Residents ${profile.population.residents}; migrants ${profile.population.migrants ?? "unknown"}` +
    ` (as of ${profile.population.period_start})` : "No population record.";
  const rows = history.items.slice().reverse().map((item) => el("tr", { "data-period": item.period_start },
    el("td", { text: item.period_start }),
    el("td", {}, item.level ? levelBadge(item.level) : el("span", { class: "muted", text: "not scored" })),
    el("td", { text: item.probability === null ? "—" : pct(item.probability) }),
    el("td", { text: `${item.observed.petitions} petitions, ${item.observed.mediation_cases} cases, ` +
      `${item.observed.collective_petitions} collective` }),
    el("td", { text: item.actions.map((a) => a.kind === "action" ? `${a.action}${a.note ? `: ${a.note}` : ""}` : `outcome of #${a.follows}: ${a.outcome}`).join("; ") || "—" })));
  const latest = history.items.filter((i) => i.probability !== null).pop();
  const actionSelect = el("select", { id: "action" }, ...["mediator_dispatched", "meeting_held", "information_session",
    "services_offered", "referred", "no_action"].map((v) => el("option", { value: v, text: v.replaceAll("_", " ") })));
  const note = el("textarea", { id: "note", rows: "2", cols: "50", maxlength: "2000",
    placeholder: "What was done, about the area (never names or ID numbers)" });
  const message = el("p", { id: "action-message" });
  const form = latest ? el("form", { class: "inline", id: "record-action", onsubmit: async (event) => {
    event.preventDefault();
    try {
      await api(`/v1/flags/${encodeURIComponent(areaId)}/${latest.period_start}/actions`, { method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ kind: "action", action: actionSelect.value, note: note.value || null }) });
      await area(areaId);
      document.getElementById("action-message").replaceChildren(el("span", { class: "notice", text: "Action recorded." }));
    } catch (error) {
      message.replaceChildren(el("span", { class: "error", role: "alert", text: error.message }));
    }
  } }, el("label", {}, `Action for ${latest.period_start}`, actionSelect), el("label", {}, "Note", note),
    el("button", { type: "submit", text: "Record action" })) : el("p", { class: "muted", text: "No scored period to act on." });
  view().replaceChildren(
    el("p", {}, el("a", { href: "#/", text: "← Hotspots" })),
    el("h2", { id: "area-name", text: `${profile.name} (${profile.area_id})` }),
    el("p", { class: "muted", text: `${path} · ${profile.level} · ${population}` }),
    trend(history.items),
    el("h3", { text: "Record what was done" }), form, message,
    el("h3", { text: "History" }),
    el("table", { id: "history" }, el("thead", {}, el("tr", {}, ...["Period", "Level", "Probability", "Observed", "Actions"].map((h) => el("th", { text: h })))),
      el("tbody", {}, ...rows)));
}

async function route() {
  const signOut = document.getElementById("sign-out");
  if (!sessionStorage.getItem(TOKEN_KEY)) { signOut.hidden = true; return signIn(); }
  signOut.hidden = false;
  const [path, query] = location.hash.slice(1).split("?");
  try {
    if (path && path.startsWith("/area/")) await area(decodeURIComponent(path.slice(6)));
    else await hotspots(new URLSearchParams(query || ""));
  } catch (error) {
    if (error.status === 401) return signIn();
    showError(error);
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-out").addEventListener("click", () => { sessionStorage.removeItem(TOKEN_KEY); route(); });
  route();
});

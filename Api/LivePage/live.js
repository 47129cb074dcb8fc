// The live statistics page: polls the statistics API every two seconds and updates the charts'
// data and the tables in place. The page itself needs no key; the API key (reader role, when the
// server requires one) is kept in this browser's localStorage and sent as X-Api-Key.
import "uplot/dist/uPlot.min.css";
import "./live.css";
import { drawn, funnelChart, timeChart } from "./charts.js";
import { amount, count, dash, duration, money, share, utcDateTime, utcTime } from "./format.js";

const pollMilliseconds = 2000;
const minute = 60_000;
const hour = 60 * minute;
const alertWindow = 24 * hour;
const alertPage = 1000; // the API's largest limit
const alertsShown = 20;
const keyStorage = "orderflow-api-key";
// A request still unanswered by then fails its refresh: one that never settles (a connection
// dropped without being closed) would otherwise stop every later refresh, the page looking current.
const requestTimeout = 10_000;
// A refresh still waiting after this long (later polls find it running) marks the figures as old
// before any request times out: an answer that is slow in coming must not look current.
const staleAfter = 3 * pollMilliseconds;

const $ = (id) => document.getElementById(id);
const keyInput = $("api-key");
keyInput.value = localStorage.getItem(keyStorage) ?? "";
$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  localStorage.setItem(keyStorage, keyInput.value);
  refresh();
});

/**
 * A refresh's requests: each gives up when unanswered (its body included) after requestTimeout,
 * and end() gives up those still on their way (another request of the refresh failed first) and
 * any asked for after it (the next page of alerts).
 */
function refreshRequests() {
  const pending = new Set();
  let ended = false;
  async function get(path) {
    if (ended) {
      throw new Error("given up: the refresh has ended");
    }
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, requestTimeout);
    pending.add(controller);
    try {
      const headers = keyInput.value ? { "X-Api-Key": keyInput.value } : {};
      const response = await fetch(path, { headers, cache: "no-store", signal: controller.signal });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        throw new Error(`${response.status} ${problem.title ?? response.statusText}`);
      }
      return await response.json();
    } catch (error) {
      // Only the abort is the timeout's: an answer that came (a status, whatever its body did) is said as it came.
      throw timedOut && error.name === "AbortError" ? new Error(`no answer within ${requestTimeout / 1000} s`) : error;
    } finally {
      clearTimeout(timer);
      pending.delete(controller);
    }
  }
  function end() {
    ended = true;
    for (const controller of pending) {
      controller.abort();
    }
    pending.clear();
  }
  return { get, end };
}

// --- Tables: rewritten only when their content changed, so nothing blinks while polling -------
const tableContents = new Map();

/** rows: arrays of cells; a cell is text or { text, className, title }. empty: what no row means. */
function fill(tableId, rows, empty) {
  const key = JSON.stringify(rows.length ? rows : empty);
  if (tableContents.get(tableId) === key) {
    return;
  }
  tableContents.set(tableId, key);
  const table = $(tableId);
  const body = table.tBodies[0];
  if (rows.length === 0) {
    const td = document.createElement("td");
    td.colSpan = table.tHead.rows[0].cells.length;
    td.className = "empty";
    td.textContent = empty;
    const tr = document.createElement("tr");
    tr.append(td);
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement("tr");
    tr.append(...cells.map((cell) => {
      const td = document.createElement("td");
      const { text, className, title } = typeof cell === "object" && cell !== null ? cell : { text: cell };
      td.textContent = text;
      if (className) td.className = className;
      if (title) td.title = title;
      return td;
    }));
    return tr;
  }));
}

const num = (text) => ({ text, className: "num" });
const id = (text) => ({ text, className: "id", title: text });

function setText(id, text) {
  const element = $(id);
  if (element.textContent !== text) {
    element.textContent = text;
  }
}

// --- Charts ------------------------------------------------------------------------------------
const orderSeries = [
  { label: "Placed", color: "#3d7be0" },
  { label: "Paid", color: "#2e9e6b" },
  { label: "Shipped", color: "#d9822b" },
];
// The revenue charts' axis and legend follow the currency of the moment (see show()).
let revenueFormat = (v) => money(v);
const stages = ["Placed", "Paid", "Shipped", "Delivered"];
const charts = {
  ordersMinute: timeChart("orders-minute", $("chart-orders-minute"), { series: orderSeries, unit: "Orders per minute", format: count, bucketSeconds: 60, integers: true }),
  revenueMinute: timeChart("revenue-minute", $("chart-revenue-minute"), { series: [{ label: "Revenue", color: "#7a5af5", bars: true }], unit: "Revenue per minute", format: (v) => revenueFormat(v), axisFormat: amount, bucketSeconds: 60 }),
  ordersHour: timeChart("orders-hour", $("chart-orders-hour"), { series: orderSeries, unit: "Orders per hour", format: count, bucketSeconds: 3600, integers: true }),
  revenueHour: timeChart("revenue-hour", $("chart-revenue-hour"), { series: [{ label: "Revenue", color: "#7a5af5", bars: true }], unit: "Revenue per hour", format: (v) => revenueFormat(v), axisFormat: amount, bucketSeconds: 3600 }),
  funnel: funnelChart("funnel", $("chart-funnel"), stages),
};
// For people curious in the console, and for the browser tests: the data each chart shows now.
window.orderflowLive = { charts: drawn, refreshing: () => running };

/** [from, to) of `buckets` whole intervals ending with the one now is in (the API wants whole intervals). */
function lastBuckets(now, size, buckets) {
  const to = Math.floor(now / size) * size + size;
  return { from: new Date(to - buckets * size).toISOString(), to: new Date(to).toISOString() };
}

/** A time-series report as the charts' columns (x in seconds since the epoch). */
function columns(report) {
  const x = report.buckets.map((b) => Date.parse(b.start) / 1000);
  return { x, placed: report.buckets.map((b) => b.placed), paid: report.buckets.map((b) => b.paid), shipped: report.buckets.map((b) => b.shipped), revenue: report.buckets.map((b) => b.revenue) };
}

// --- Alerts: the newest first ----------------------------------------------------------------
// The API lists alerts oldest first from `since`, at most 1000 at a time. Asking for the whole
// last 24 hours gives every alert of that window when there are fewer than 1000; otherwise the
// window is narrowed to the last hour, then 5 minutes, and paged forward from there, so the
// newest are always among those read.
async function latestAlerts(now, get) {
  const ask = (since) => get(`/api/alerts?since=${new Date(since).toISOString()}&limit=${alertPage}`).then((r) => r.alerts);
  let alerts = await ask(now - alertWindow);
  let complete = alerts.length < alertPage;
  const total = complete ? alerts.length : null;
  for (const span of [hour, 5 * minute]) {
    if (complete) break;
    alerts = await ask(now - span);
    complete = alerts.length < alertPage;
  }
  for (let pages = 0; !complete && pages < 50; pages++) {
    const last = alerts[alerts.length - 1];
    const next = (await ask(Date.parse(last.raisedAt))).filter((a) => !alerts.some((seen) => seen.id === a.id));
    alerts = alerts.concat(next).slice(-alertPage);
    complete = next.length === 0 || next.length < alertPage - 1;
  }
  return { newest: alerts.slice(-alertsShown).reverse(), total };
}

// --- One refresh --------------------------------------------------------------------------------
let running = false;
let again = false;
let lastUpdated = null;
let lastUpdatedAt = Date.now();

/** The figures shown are old: said in the status (with the time they are of) and shown dimmed. */
function markStale(message) {
  const shown = lastUpdated ? ` (figures of ${lastUpdated})` : "";
  $("status").textContent = `${message}${shown}`;
  $("status").className = "error";
  document.querySelector("main").classList.add("stale");
}

async function refresh() {
  if (running) {
    again = true;
    // Not over an error already shown: the figures are marked old, and the error says more.
    if (Date.now() - lastUpdatedAt >= staleAfter && !document.querySelector("main").classList.contains("stale")) {
      markStale("Waiting for the statistics to answer");
    }
    return;
  }
  running = true;
  const { get, end } = refreshRequests();
  try {
    const now = Date.now();
    const minutes = lastBuckets(now, minute, 60);
    const hours = lastBuckets(now, hour, 24);
    const [summary, perMinute, perHour, products, alerts, stuck] = await Promise.all([
      get("/api/stats/summary"),
      get(`/api/stats/timeseries?from=${minutes.from}&to=${minutes.to}&interval=minute`),
      get(`/api/stats/timeseries?from=${hours.from}&to=${hours.to}&interval=hour`),
      get("/api/stats/products?top=10&by=revenue"),
      latestAlerts(now, get),
      get("/api/stats/stuck?status=paid&olderThan=PT2H&limit=20"),
    ]);
    show(summary, perMinute, perHour, products, alerts, stuck, now);
    lastUpdatedAt = Date.now();
    lastUpdated = utcTime(new Date(lastUpdatedAt));
    setText("status", `Updated ${lastUpdated}`);
    $("status").className = "";
    document.querySelector("main").classList.remove("stale");
  } catch (error) {
    // What is shown stays, marked as old: the figures of the last refresh that succeeded.
    markStale(`Cannot read statistics: ${error.message}`);
  } finally {
    end(); // what is still on its way (another request failed first) is given up
    running = false;
    if (again) {
      again = false;
      refresh();
    }
  }
}

function show(summary, perMinute, perHour, products, alerts, stuck, now) {
  for (const key of ["placed", "paid", "shipped", "delivered", "cancelled", "refunded"]) {
    setText(key, count(summary.orders[key]));
  }

  const currencies = Object.keys(summary.byCurrency ?? {}).sort();
  fill("money", currencies.map((code) => {
    const c = summary.byCurrency[code];
    return [code, num(money(c.revenue, code)), num(money(c.refunds, code)), num(money(c.netRevenue, code)), num(count(c.payments)), num(c.averageOrderValue == null ? dash : money(c.averageOrderValue, code))];
  }), "No payment yet: revenue appears here per currency once an order is paid.");

  // The time series and product sales add the amounts of all currencies together (the API does
  // not split them): with one currency that is exact; with several, say so instead of pretending.
  const single = currencies.length === 1 ? currencies[0] : undefined;
  revenueFormat = (v) => money(v, single);
  const mixed = currencies.length > 1;
  setText("revenue-note", mixed
    ? `Revenue over time and per product adds ${currencies.join(", ")} together without converting them; the table above has each currency's exact figures.`
    : "");
  setText("products-revenue-heading", mixed ? "Revenue (currencies added)" : single ? `Revenue (${single})` : "Revenue");

  const m = columns(perMinute);
  charts.ordersMinute.update(m.x, [m.placed, m.paid, m.shipped]);
  charts.revenueMinute.update(m.x, [m.revenue], revenueUnit("minute", single, mixed));
  const h = columns(perHour);
  charts.ordersHour.update(h.x, [h.placed, h.paid, h.shipped]);
  charts.revenueHour.update(h.x, [h.revenue], revenueUnit("hour", single, mixed));

  const o = summary.orders;
  charts.funnel.update([o.placed ?? 0, o.paid ?? 0, o.shipped ?? 0, o.delivered ?? 0]);
  fill("latency", [["placedToPaid", "Placed → paid"], ["paidToShipped", "Paid → shipped"], ["shippedToDelivered", "Shipped → delivered"]].map(([key, label]) => {
    const latency = summary.latency[key] ?? {};
    return [label, num(share(summary.funnel[key])), num(duration(latency.p50)), num(duration(latency.p95)), num(duration(latency.p99)), num(count(latency.count ?? 0))];
  }), "");

  fill("products", products.products.map((p) => [id(p.sku), num(count(p.quantity)), num(revenueFormat(p.revenue))]),
    "No product sold yet: products appear here once an order is paid.");

  setText("alerts-count", alerts.total == null ? `(${count(alertPage)} or more in the last 24 hours)` : `(${count(alerts.total)} in the last 24 hours)`);
  fill("alerts", alerts.newest.map((a) => [utcDateTime(a.raisedAt), { text: a.rule, title: a.detail }, id(a.customerId), id(a.orderId)]),
    "No alerts in the last 24 hours.");

  fill("stuck", stuck.orders.map((s) => [id(s.orderId), utcDateTime(s.since), num(duration((now - Date.parse(s.since)) / 1000))]),
    "None: every order paid more than 2 hours ago has shipped.");
}

const revenueUnit = (per, single, mixed) => (single ? `${single} per ${per}` : mixed ? `All currencies / ${per === "minute" ? "min" : per}` : `Revenue per ${per}`);

refresh();
setInterval(refresh, pollMilliseconds);

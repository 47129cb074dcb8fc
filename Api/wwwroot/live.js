// The live statistics page: polls the statistics API every two seconds. The API key (if the
// server requires one) is kept in this browser's localStorage and sent as X-Api-Key.
const $ = (id) => document.getElementById(id);
const keyInput = $("api-key");
keyInput.value = localStorage.getItem("orderflow-api-key") ?? "";
$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  localStorage.setItem("orderflow-api-key", keyInput.value);
  refresh();
});

async function get(path) {
  const headers = keyInput.value ? { "X-Api-Key": keyInput.value } : {};
  const response = await fetch(path, { headers });
  if (!response.ok) {
    const problem = await response.json().catch(() => ({}));
    throw new Error(`${response.status} ${problem.title ?? response.statusText}`);
  }
  return response.json();
}

const number = (n) => (n ?? 0).toLocaleString();
const money = (n) => (n ?? 0).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const seconds = (s) => (s == null ? "–" : s < 120 ? `${s.toFixed(0)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`);
const cell = (text) => { const td = document.createElement("td"); td.textContent = text; return td; };
function fill(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows.map((values) => { const tr = document.createElement("tr"); tr.append(...values.map(cell)); return tr; }));
}

async function refresh() {
  try {
    const now = new Date();
    now.setUTCSeconds(0, 0);
    const to = new Date(now.getTime() + 60_000);
    const from = new Date(to.getTime() - 60 * 60_000);
    const [summary, series, products, alerts, stuck] = await Promise.all([
      get("/api/stats/summary"),
      get(`/api/stats/timeseries?from=${from.toISOString()}&to=${to.toISOString()}&interval=minute`),
      get("/api/stats/products?top=10&by=revenue"),
      get("/api/alerts?limit=20"),
      get("/api/stats/stuck?status=paid&olderThan=PT2H&limit=20"),
    ]);
    $("placed").textContent = number(summary.orders.placed);
    $("paid").textContent = number(summary.orders.paid);
    $("delivered").textContent = number(summary.orders.delivered);
    $("cancelled").textContent = number(summary.orders.cancelled);
    $("revenue").textContent = money(summary.revenue);
    $("net").textContent = money(summary.netRevenue);
    $("aov").textContent = summary.averageOrderValue == null ? "–" : money(summary.averageOrderValue);
    fill("funnel", [["placedToPaid", "placed → paid"], ["paidToShipped", "paid → shipped"], ["shippedToDelivered", "shipped → delivered"]].map(([key, label]) => {
      const latency = summary.latency[key];
      const conversion = summary.funnel[key];
      return [label, conversion == null ? "–" : `${(conversion * 100).toFixed(1)} %`, seconds(latency.p50), seconds(latency.p95), seconds(latency.p99)];
    }));
    const max = Math.max(1, ...series.buckets.map((b) => b.placed));
    $("chart").replaceChildren(...series.buckets.map((b) => {
      const bar = document.createElement("div");
      bar.style.height = `${(100 * b.placed) / max}%`;
      bar.className = b.placed ? "" : "empty";
      bar.title = `${b.start}: ${b.placed} placed, ${b.paid} paid, revenue ${money(b.revenue)}`;
      return bar;
    }));
    fill("products", products.products.map((p) => [p.sku, number(p.quantity), money(p.revenue)]));
    fill("alerts", alerts.alerts.map((a) => [a.rule, a.customerId, a.orderId, new Date(a.raisedAt).toLocaleString()]));
    fill("stuck", stuck.orders.map((o) => [o.orderId, new Date(o.since).toLocaleString()]));
    $("status").textContent = `Updated ${new Date().toLocaleTimeString()}`;
    $("status").className = "";
  } catch (error) {
    $("status").textContent = `Cannot read statistics: ${error.message}`;
    $("status").className = "error";
  }
}

refresh();
setInterval(refresh, 2000);

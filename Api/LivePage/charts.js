// The page's charts, drawn by uPlot (bundled from npm, so the page needs nothing from the internet).
// Each chart is created once; polling only swaps its data (setData), so nothing flickers.
import uPlot from "uplot";
import { count, utcDateTime } from "./format.js";

const height = 220;
const countIncrements = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];
const utc = (seconds) => uPlot.tzDate(new Date(seconds * 1000), "Etc/UTC");

/** The data last drawn, by chart name, for people and tests to read back (window.orderflowLive). */
export const drawn = {};

// The chart's aria-label with the totals it shows now, so a screen reader hears the figures too.
function describe(element, totals) {
  element.dataset.label ??= element.getAttribute("aria-label");
  const label = `${element.dataset.label}. ${totals}.`;
  if (element.getAttribute("aria-label") !== label) {
    element.setAttribute("aria-label", label);
  }
}

function sized(element, make) {
  const chart = make(Math.max(element.clientWidth, 200));
  // Follow the container's width (window resize, narrow screens) without rebuilding the chart.
  new ResizeObserver(() => {
    const width = Math.max(element.clientWidth, 200);
    if (width !== chart.width) {
      chart.setSize({ width, height });
    }
  }).observe(element);
  return chart;
}

// Wide enough for the longest tick label (the font is about 7 px per character).
const axisWidth = (u, values) => 28 + 7 * Math.max(2, ...(values ?? []).map((v) => String(v).length));

const pad = (n) => String(n).padStart(2, "0");

// Time axis labels in UTC, 24-hour clock; the date under the first label and under midnight.
function utcTicks(u, splits) {
  return splits.map((seconds, i) => {
    const d = new Date(seconds * 1000);
    const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    const midnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0;
    return i === 0 || midnight ? `${time}\n${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` : time;
  });
}

// From zero up, with room above the highest value; a chart of zeros still shows a 0..1 axis.
const fromZero = (u, min, max) => [0, max > 0 ? max * 1.12 : 1];

/**
 * A time-series chart of buckets (x = bucket start, seconds since the epoch, UTC).
 * series: [{ label, color, bars? }]; unit: the y axis label; format: a y value for people.
 */
export function timeChart(name, element, { series, unit, format, axisFormat = format, bucketSeconds, integers }) {
  const usesBars = series.some((s) => s.bars);
  const half = bucketSeconds / 2;
  const chart = sized(element, (width) => new uPlot({
    width,
    height,
    tzDate: utc,
    cursor: { points: { size: 7 } },
    scales: {
      // Bars are centred on their bucket's start; half a bucket of margin keeps the outer ones whole.
      x: { time: true, range: (u, min, max) => (usesBars ? [min - half, max + half] : [min, max]) },
      y: { range: fromZero },
    },
    axes: [
      { label: "Time (UTC)", labelSize: 20, size: 50, stroke: "#5b6478", grid: { stroke: "#eceff4" }, ticks: { stroke: "#d8dde6" }, values: utcTicks },
      {
        label: unit, labelSize: 20, size: axisWidth, stroke: "#5b6478", grid: { stroke: "#eceff4" }, ticks: { stroke: "#d8dde6" },
        values: (u, splits) => splits.map((v) => axisFormat(v)),
        ...(integers ? { incrs: countIncrements } : {}),
      },
    ],
    series: [
      { label: "Bucket start", value: (u, ts) => (ts == null ? "–" : utcDateTime(new Date(ts * 1000))) },
      ...series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: s.bars ? 0 : 2,
        fill: s.bars ? `${s.color}cc` : undefined,
        paths: s.bars ? uPlot.paths.bars({ size: [0.7, 48] }) : undefined,
        points: s.bars ? { show: false } : { size: 5 },
        value: (u, v) => (v == null ? "–" : format(v)),
      })),
    ],
  }, [[], ...series.map(() => [])], element));

  return {
    chart,
    /** buckets: [{ start, ... }]; pick: one array of values per series, same order as series. */
    update(x, values, unitLabel) {
      drawn[name] = { x, series: Object.fromEntries(series.map((s, i) => [s.label, values[i]])) };
      describe(element, "In total: " + series.map((s, i) => `${s.label} ${format(values[i].reduce((a, b) => a + b, 0))}`).join(", "));
      if (unitLabel && chart.axes[1].label !== unitLabel) {
        chart.axes[1].label = unitLabel;
        chart.redraw(false, true);
      }
      chart.setData([x, ...values]);
    },
  };
}

/** The funnel: one bar per stage (placed, paid, shipped, delivered). */
export function funnelChart(name, element, stages) {
  const chart = sized(element, (width) => new uPlot({
    width,
    height,
    cursor: { points: { show: false } },
    scales: { x: { time: false, range: () => [-0.5, stages.length - 0.5] }, y: { range: fromZero } },
    axes: [
      {
        label: "Stage", labelSize: 20, stroke: "#5b6478", grid: { show: false }, ticks: { show: false },
        splits: () => stages.map((_, i) => i), values: (u, splits) => splits.map((i) => stages[i] ?? ""),
      },
      { label: "Orders", labelSize: 20, size: axisWidth, stroke: "#5b6478", grid: { stroke: "#eceff4" }, incrs: countIncrements, values: (u, splits) => splits.map(count) },
    ],
    series: [
      { label: "Stage", value: (u, i) => stages[i] ?? "–" },
      { label: "Orders", stroke: "#3d7be0", fill: "#3d7be0cc", width: 1, paths: uPlot.paths.bars({ size: [0.6, 120] }), points: { show: false }, value: (u, v) => count(v) },
    ],
  }, [stages.map((_, i) => i), stages.map(() => 0)], element));

  return {
    chart,
    update(values) {
      drawn[name] = { x: stages, series: { Orders: values } };
      describe(element, stages.map((stage, i) => `${stage} ${count(values[i])}`).join(", "));
      chart.setData([stages.map((_, i) => i), values]);
    },
  };
}

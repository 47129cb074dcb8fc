// Numbers, money, durations and times for people. Locale-aware (the browser's language), but
// times are always UTC because the API speaks UTC.

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const plainMoney = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const twoDecimals = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
const moneyFormats = new Map();

export const dash = "–";

/** A number with at most two decimals, for chart axes whose label names the unit. */
export const amount = (n) => (n == null ? dash : twoDecimals.format(n));

/** A count with thousands separators: 12,345. */
export const count = (n) => (n == null ? dash : integer.format(n));

/** A share (0..1) as a percentage: 97.5 %. */
export const share = (n) => (n == null ? dash : percent.format(n));

/**
 * An amount in its currency, with the code so that no two currencies look alike: "EUR 1,234.50".
 * Intl rounds to the currency's own minor unit, so no floating-point tail can show.
 */
export function money(amount, currency) {
  if (amount == null) {
    return dash;
  }
  if (!currency) {
    return plainMoney.format(amount);
  }
  let format = moneyFormats.get(currency);
  if (format === undefined) {
    try {
      format = new Intl.NumberFormat(undefined, { style: "currency", currency, currencyDisplay: "code" });
    } catch {
      format = null; // not an ISO 4217 code Intl knows: show the code next to a plain amount
    }
    moneyFormats.set(currency, format);
  }
  return format ? format.format(amount) : `${currency} ${plainMoney.format(amount)}`;
}

/**
 * A duration in seconds with the unit that fits it: 340 ms, 4.2 s, 12.5 min, 3.1 h, 2.4 d.
 * Never "0 s" for a sub-second value.
 */
export function duration(seconds) {
  if (seconds == null) {
    return dash;
  }
  if (seconds < 1) {
    const ms = seconds * 1000;
    return ms > 0 && ms < 1 ? "< 1 ms" : `${integer.format(ms)} ms`;
  }
  if (seconds < 60) {
    return `${oneDecimal.format(seconds)} s`;
  }
  if (seconds < 3600) {
    return `${oneDecimal.format(seconds / 60)} min`;
  }
  if (seconds < 86400) {
    return `${oneDecimal.format(seconds / 3600)} h`;
  }
  return `${oneDecimal.format(seconds / 86400)} d`;
}

const pad = (n) => String(n).padStart(2, "0");

/** "2026-11-29 14:05:09 UTC" (ISO-like, so it reads the same in every locale). */
export function utcDateTime(value) {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) {
    return dash;
  }
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/** "14:05:09 UTC". */
export function utcTime(value) {
  const d = value instanceof Date ? value : new Date(value);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

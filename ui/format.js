// Numbers as people read them, the same way corralctl prints them
// (api/units.cpp): CPU in cores or millicores, memory in binary units,
// ratios as percentages.

const SUFFIX = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

// A Kubernetes quantity ("500m", "2", "24683584Ki", "1.5Gi", 3) as a number.
export function quantity(q) {
  if (q === undefined || q === null || q === '') return 0;
  if (typeof q === 'number') return q;
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$/.exec(String(q).trim());
  if (!m || !(m[2] in SUFFIX)) return NaN;
  return parseFloat(m[1]) * SUFFIX[m[2]];
}

export function cores(c) {
  if (!Number.isFinite(c)) return '–';
  if (Math.abs(c) < 1) return `${Math.round(c * 1000)}m`;
  return `${+c.toFixed(2)}`;
}

export function bytes(b) {
  if (!Number.isFinite(b)) return '–';
  const units = [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];
  for (const [unit, size] of units) {
    if (Math.abs(b) >= size) return `${+(b / size).toFixed(1)}${unit}`;
  }
  return `${Math.round(b)}`;
}

export function percent(r, digits = 1) {
  if (!Number.isFinite(r)) return '–';
  return `${(r * 100).toFixed(digits)}%`;
}

// Availability like 0.99995 keeps its nines: rounded down, never shows 100 %
// unless it is.
export function availability(r) {
  if (!Number.isFinite(r)) return '–';
  if (r >= 1) return '100%';
  const nines = Math.max(1, Math.min(4, Math.ceil(-Math.log10(1 - r)) - 1));
  const p = Math.floor(r * 100 * 10 ** nines) / 10 ** nines;
  return `${p.toFixed(nines)}%`;
}

export function age(timestamp, now = Date.now()) {
  const t = Date.parse(timestamp);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

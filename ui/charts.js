// Plain SVG charts: a sparkline, a two-part capacity bar, and the pool's load
// bars with the mean L and the maxImbalance band. No chart library: the page
// must build and run with nothing fetched from anywhere.
import { h, svg } from './dom.js';

// values: numbers or null (no sample), oldest first; max: the top of the scale.
export function sparkline(values, max, cls) {
  const width = 120, height = 24, n = values.length;
  const top = max > 0 ? max : Math.max(1e-9, ...values.filter((v) => v !== null));
  const x = (i) => (n <= 1 ? width : (i * width) / (n - 1));
  const y = (v) => height - 1 - Math.min(1, Math.max(0, v / top)) * (height - 2);
  const segments = [];
  let points = [];
  values.forEach((v, i) => {
    if (v === null || v === undefined || !Number.isFinite(v)) {
      if (points.length) segments.push(points);
      points = [];
    } else {
      points.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    }
  });
  if (points.length) segments.push(points);
  return svg('svg', { class: 'spark ' + (cls || ''), width, height, viewBox: `0 0 ${width} ${height}` },
    segments.map((p) => (p.length === 1
      ? svg('circle', { cx: p[0].split(',')[0], cy: p[0].split(',')[1], r: 1.5 })
      : svg('polyline', { points: p.join(' ') }))));
}

// What is allocated and what is used of a capacity, as two thin bars.
export function capacityBars(capacity, allocated, used) {
  const share = (v) => (capacity > 0 ? Math.min(1, v / capacity) : 0);
  return h('div', { class: 'capbars' },
    h('div', { class: 'capbar', title: 'allocated (requests of the VMs placed)' },
      h('div', { class: 'fill allocated', style: `width:${(share(allocated) * 100).toFixed(1)}%` })),
    h('div', { class: 'capbar', title: 'used (measured on the hosts)' },
      h('div', { class: 'fill used', style: `width:${(share(used) * 100).toFixed(1)}%` })));
}

const MAX_BARS = 160;

// hosts: [{name, load, flag}] (flag: '' | 'notready' | 'cordoned' | ...).
// Above MAX_BARS hosts, sorted by load and grouped: each bar is a group's
// mean, with its lowest and highest host as a whisker; a group holding a
// flagged host takes that host's colour, so a dead host never hides.
export function loadBars(hosts, meanLoad, band) {
  const width = 900, height = 180, pad = 24;
  const sorted = hosts.length > MAX_BARS ? [...hosts].sort((a, b) => b.load - a.load) : hosts;
  const groups = [];
  const per = Math.max(1, Math.ceil(sorted.length / MAX_BARS));
  for (let i = 0; i < sorted.length; i += per) groups.push(sorted.slice(i, i + per));
  const top = Math.max(1, meanLoad + band, ...hosts.map((x) => x.load));
  const y = (v) => height - pad - (Math.max(0, v) / top) * (height - 2 * pad);
  const slot = groups.length ? (width - 2 * pad) / groups.length : 0;
  const bars = groups.map((g, i) => {
    const loads = g.map((x) => x.load);
    const mean = loads.reduce((a, b) => a + b, 0) / loads.length;
    const flagged = g.find((x) => x.flag);
    const x0 = pad + i * slot + slot * 0.1;
    const label = g.length === 1 ? `${g[0].name}: ${(mean * 100).toFixed(1)}%${g[0].flag ? ' (' + g[0].flag + ')' : ''}`
      : `${g.length} hosts (${g[0].name} … ${g[g.length - 1].name}): mean ${(mean * 100).toFixed(1)}%, ` +
        `${(Math.min(...loads) * 100).toFixed(1)}–${(Math.max(...loads) * 100).toFixed(1)}%` +
        (flagged ? `; ${g.filter((x) => x.flag).length} flagged` : '');
    const parts = [svg('title', {}, label),
      svg('rect', { class: 'bar ' + (flagged ? flagged.flag : ''), x: x0.toFixed(1), y: y(mean).toFixed(1),
        width: Math.max(1, slot * 0.8).toFixed(1), height: Math.max(0, height - pad - y(mean)).toFixed(1),
        'data-host': g.length === 1 ? g[0].name : null })];
    if (g.length > 1) {
      const cx = (x0 + slot * 0.4).toFixed(1);
      parts.push(svg('line', { class: 'whisker', x1: cx, x2: cx, y1: y(Math.min(...loads)), y2: y(Math.max(...loads)) }));
    }
    return svg('g', {}, parts);
  });
  const bandTop = y(meanLoad + band), bandBottom = y(Math.max(0, meanLoad - band));
  return svg('svg', { class: 'loadbars', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none' },
    svg('rect', { class: 'band', x: pad, y: bandTop, width: width - 2 * pad, height: Math.max(0, bandBottom - bandTop) },
      svg('title', {}, `maxImbalance band: L ± ${(band * 100).toFixed(0)}%`)),
    bars,
    svg('line', { class: 'mean', x1: pad, x2: width - pad, y1: y(meanLoad), y2: y(meanLoad) }),
    svg('text', { class: 'axis', x: width - pad, y: y(meanLoad) - 4, 'text-anchor': 'end' }, `L ${(meanLoad * 100).toFixed(1)}%`),
    svg('line', { class: 'axis-line', x1: pad, x2: width - pad, y1: height - pad, y2: height - pad }));
}

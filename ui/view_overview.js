// Overview: each pool's three pillars at a glance — capacity V (allocated and
// used of it), mean load L (and how far each host strays from it), and the
// availability R of each VMSet against its target.
import { h, svg, figure } from './dom.js';
import { quantity, cores, bytes, percent, availability } from './format.js';
import { capacityBars } from './charts.js';
import { AVAILABILITY_TARGET, hostFlag, inPool } from './model.js';

function countBy(values, key) {
  const counts = new Map();
  for (const v of values) counts.set(key(v), (counts.get(key(v)) || 0) + 1);
  return [...counts.entries()].sort();
}

// Each host's deviation Rᵢ − L as a histogram of 21 bins over [−0.5, 0.5]:
// one glance at 5 hosts or 5,000.
function deviationHistogram(nodeLoads, band) {
  const width = 300, height = 50, bins = new Array(21).fill(0);
  for (const n of nodeLoads) {
    const i = Math.max(0, Math.min(20, Math.round((n.deviation || 0) * 20) + 10));
    bins[i]++;
  }
  const top = Math.max(1, ...bins);
  const w = width / bins.length;
  const bandW = Math.min(0.5, band) * 20 * w;
  return svg('svg', { class: 'histogram', viewBox: `0 0 ${width} ${height + 12}`, width, height: height + 12 },
    svg('rect', { class: 'band', x: width / 2 - bandW, y: 0, width: 2 * bandW, height }),
    bins.map((c, i) => svg('rect', { class: 'bar', x: i * w + 1, y: height - (c / top) * height, width: w - 2,
      height: (c / top) * height }, svg('title', {}, `${c} host(s) at ${((i - 10) * 5)}% from L`))),
    svg('line', { class: 'mean', x1: width / 2, x2: width / 2, y1: 0, y2: height }),
    svg('text', { class: 'axis', x: 0, y: height + 11 }, '−50%'),
    svg('text', { class: 'axis', x: width / 2, y: height + 11, 'text-anchor': 'middle' }, 'L'),
    svg('text', { class: 'axis', x: width, y: height + 11, 'text-anchor': 'end' }, '+50%'));
}

// A deviation from L with its sign; none for what rounds to zero ("-0.0%").
function signedPercent(d) {
  if (Math.abs(d) < 0.0005) return '±0.0%';
  return (d > 0 ? '+' : '') + percent(d);
}

function poolCard(pool, state) {
  const st = pool.status || {}, name = pool.metadata.name;
  const cap = st.capacity || {}, alloc = st.allocated || {}, used = st.used || {};
  const id = (what) => `pool/${name}/${what}`;
  const band = ((pool.spec || {}).rebalance || {}).maxImbalance ?? 0.2;
  const loads = [...(st.nodeLoads || [])].sort((a, b) => Math.abs(b.deviation) - Math.abs(a.deviation));
  const vmsets = [...state.caches.vmsets.objects.values()].filter((s) => (s.spec || {}).pool === name)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const hosts = [...state.caches.nodes.objects.values()].filter((n) => inPool(pool, n));
  const flagged = hosts.filter((n) => hostFlag(n)).length;
  return h('section', { class: 'card pool', 'data-pool': name },
    h('h2', {}, `Pool ${name}`,
      h('span', { class: 'sub' }, ` ${st.readyNodes ?? 0} of ${st.totalNodes ?? 0} hosts Ready · tolerates ${st.tolerableFailures ?? 0} failure(s)`,
        flagged ? h('span', { class: 'warn' }, ` · ${flagged} need attention`) : '')),
    h('div', { class: 'pillars' },
      h('div', { class: 'pillar' },
        h('h3', {}, 'Capacity V = Σ Pᵢ'),
        h('div', { class: 'big' }, figure(id('capacity.cpu'), quantity(cap.cpu), cores(quantity(cap.cpu))), ' CPU · ',
          figure(id('capacity.memory'), quantity(cap.memory), bytes(quantity(cap.memory)))),
        h('div', { class: 'row' }, 'CPU allocated ', figure(id('allocated.cpu'), quantity(alloc.cpu), cores(quantity(alloc.cpu))),
          ', used ', figure(id('used.cpu'), quantity(used.cpu), cores(quantity(used.cpu)))),
        capacityBars(quantity(cap.cpu), quantity(alloc.cpu), quantity(used.cpu)),
        h('div', { class: 'row' }, 'memory allocated ', figure(id('allocated.memory'), quantity(alloc.memory), bytes(quantity(alloc.memory))),
          ', used ', figure(id('used.memory'), quantity(used.memory), bytes(quantity(used.memory)))),
        capacityBars(quantity(cap.memory), quantity(alloc.memory), quantity(used.memory))),
      h('div', { class: 'pillar' },
        h('h3', {}, 'Mean load L = Σ Rᵢ / n'),
        h('div', { class: 'big' }, figure(id('meanLoad'), st.meanLoad ?? 0, percent(st.meanLoad ?? 0))),
        h('div', { class: 'row' }, 'spread (max |Rᵢ − L|) ', figure(id('loadSpread'), st.loadSpread ?? 0, percent(st.loadSpread ?? 0)),
          ` · band ±${percent(band, 0)}`),
        deviationHistogram(loads, band),
        h('ul', { class: 'deviations' }, loads.slice(0, 3).map((n) =>
          h('li', {}, `${n.name}: ${percent(n.load)} (${signedPercent(n.deviation)})`)))),
      h('div', { class: 'pillar' },
        h('h3', {}, 'Availability R = 1 − Π(1 − Rᵢ)'),
        vmsets.length === 0 ? h('p', { class: 'muted' }, 'no VMSets in this pool') :
          h('table', { class: 'compact' },
            h('tr', {}, h('th', {}, 'VMSet'), h('th', {}, 'ready'), h('th', {}, 'R'), h('th', {}, `target ${percent(AVAILABILITY_TARGET, 0)}`)),
            vmsets.map((s) => {
              const r = (s.status || {}).availability ?? 0;
              const ok = r >= AVAILABILITY_TARGET || (s.spec || {}).replicas === 0;
              return h('tr', { class: ok ? '' : 'bad' },
                h('td', {}, s.metadata.name),
                h('td', {}, `${(s.status || {}).ready ?? 0}/${(s.spec || {}).replicas ?? 0}`),
                h('td', {}, figure(`vmset/${s.metadata.name}/availability`, r, availability(r))),
                h('td', {}, ok ? '✓ met' : '✗ below'));
            })))));
}

export class OverviewView {
  mount(el) { this.el = el; }

  update(state) {
    const nodes = [...state.caches.nodes.objects.values()];
    const vms = [...state.caches.vms.objects.values()];
    const pools = [...state.caches.pools.objects.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    this.el.replaceChildren(
      h('section', { class: 'summary' },
        h('span', {}, h('b', {}, figure('cluster/nodes', nodes.length, nodes.length)), ' hosts: ',
          countBy(nodes, (n) => n.phase).map(([p, c]) => h('span', { class: 'pill phase-' + p }, `${c} ${p}`))),
        h('span', {}, h('b', {}, figure('cluster/vms', vms.length, vms.length)), ' VMs: ',
          countBy(vms, (v) => v.phase).map(([p, c]) => h('span', { class: 'pill phase-' + p }, `${c} ${p}`)))),
      ...(pools.length ? pools.map((p) => poolCard(p, state)) : [h('p', { class: 'muted' }, 'No pools yet: corralctl apply -f manifests/examples')]));
  }
}

// Pool: one bar per host with its measured load Rᵢ, the line at L and the
// band of maxImbalance around it; hosts NotReady, Unreachable, cordoned or
// draining stand out in colour and in a list of their own.
import { h, figure } from './dom.js';
import { percent } from './format.js';
import { loadBars } from './charts.js';
import { hostFlag, flagText, inPool, measuredLoad } from './model.js';

const ATTENTION_ROWS = 50;

function poolSection(pool, state) {
  const st = pool.status || {}, name = pool.metadata.name;
  const band = ((pool.spec || {}).rebalance || {}).maxImbalance ?? 0.2;
  // Rᵢ as the controller computed it where it did (Ready hosts); measured
  // here from the host's own figures for the others.
  const apiLoads = new Map((st.nodeLoads || []).map((n) => [n.name, n.load]));
  const hosts = [...state.caches.nodes.objects.values()].filter((n) => inPool(pool, n))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((n) => ({ name: n.name, load: apiLoads.has(n.name) ? apiLoads.get(n.name) : measuredLoad(n), flag: hostFlag(n) }));
  const attention = hosts.filter((x) => x.flag);
  const outOfBand = hosts.filter((x) => !x.flag && Math.abs(x.load - (st.meanLoad ?? 0)) > band);
  return h('section', { class: 'card', 'data-pool': name },
    h('h2', {}, `Pool ${name}`, h('span', { class: 'sub' },
      ` ${hosts.length} hosts · L `, figure(`pool/${name}/meanLoad`, st.meanLoad ?? 0, percent(st.meanLoad ?? 0)),
      ` · band ±${percent(band, 0)} · ${outOfBand.length} out of band`)),
    hosts.length > 160 ? h('p', { class: 'muted' }, `${hosts.length} hosts, sorted by load and grouped: each bar is a group's mean, the whisker its lowest and highest host.`) : '',
    loadBars(hosts, st.meanLoad ?? 0, band),
    h('div', { class: 'legend' }, ['notready', 'unreachable', 'draining', 'cordoned'].map((f) =>
      h('span', { class: 'key ' + f }, flagText(f)))),
    attention.length === 0 ? h('p', { class: 'ok' }, 'Every host is Ready and schedulable.') :
      h('div', { class: 'attention' },
        h('h3', {}, `${attention.length} host(s) need attention`),
        h('ul', {}, attention.slice(0, ATTENTION_ROWS).map((x) =>
          h('li', { class: 'flag ' + x.flag, 'data-host': x.name }, h('b', {}, x.name), ` ${flagText(x.flag)}`))),
        attention.length > ATTENTION_ROWS ? h('p', { class: 'muted' }, `… and ${attention.length - ATTENTION_ROWS} more (Hosts tab, filter by status)`) : ''));
}

export class PoolView {
  mount(el) { this.el = el; }

  update(state) {
    const pools = [...state.caches.pools.objects.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    this.el.replaceChildren(...(pools.length ? pools.map((p) => poolSection(p, state)) : [h('p', { class: 'muted' }, 'No pools yet.')]));
  }
}

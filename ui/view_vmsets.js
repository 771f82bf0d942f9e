// VMSets: where the replicas are (per host and per zone), their phases, the
// set's availability R, and the moves in flight. Admins may scale.
import { h, figure } from './dom.js';
import { availability } from './format.js';
import { AVAILABILITY_TARGET, ZONE_LABEL } from './model.js';

const HOST_ROWS = 20;

function counts(list, key) {
  const m = new Map();
  for (const x of list) m.set(key(x), (m.get(key(x)) || 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
}

function scaleControl(set, state) {
  const input = h('input', { type: 'number', min: 0, value: (set.spec || {}).replicas ?? 0, class: 'replicas',
    'aria-label': `replicas of ${set.metadata.name}` });
  return h('span', { class: 'scale' }, input,
    h('button', { 'data-action': 'scale', onclick: () => state.actions.scale(set.metadata.name, parseInt(input.value, 10)) }, 'Scale'));
}

function vmsetCard(set, vms, state) {
  const name = set.metadata.name, st = set.status || {}, spec = set.spec || {};
  const mine = vms.filter((v) => v.vmset === name);
  const nodes = state.caches.nodes.objects;
  const placed = mine.filter((v) => v.node);
  const zoneOf = (v) => (nodes.get(v.node) || { labels: {} }).labels[ZONE_LABEL] || '(no zone)';
  const moves = mine.filter((v) => v.replaces);
  const byHost = counts(placed, (v) => v.node);
  const r = st.availability ?? 0;
  const ok = r >= AVAILABILITY_TARGET || spec.replicas === 0;
  return h('section', { class: 'card', 'data-vmset': name },
    h('h2', {}, `VMSet ${name}`, h('span', { class: 'sub' }, ` pool ${spec.pool || '–'}`),
      state.admin ? scaleControl(set, state) : ''),
    h('div', { class: 'stats' },
      h('div', {}, h('span', { class: 'label' }, 'desired'), figure(`vmset/${name}/replicas`, spec.replicas ?? 0, spec.replicas ?? 0)),
      h('div', {}, h('span', { class: 'label' }, 'ready'), figure(`vmset/${name}/ready`, st.ready ?? 0, st.ready ?? 0)),
      h('div', {}, h('span', { class: 'label' }, 'running'), `${st.running ?? 0}`),
      h('div', { class: ok ? '' : 'bad' }, h('span', { class: 'label' }, 'R'),
        figure(`vmset/${name}/availability`, r, availability(r)), ok ? '' : ` < ${availability(AVAILABILITY_TARGET)}`),
      h('div', {}, h('span', { class: 'label' }, 'moves in flight'), figure(`vmset/${name}/moves`, moves.length, moves.length))),
    h('div', { class: 'phases' }, counts(mine, (v) => v.phase).map(([p, c]) => h('span', { class: 'pill phase-' + p }, `${c} ${p}`))),
    h('div', { class: 'placement' },
      h('table', { class: 'compact' }, h('tr', {}, h('th', {}, 'zone'), h('th', {}, 'replicas')),
        counts(placed, zoneOf).map(([z, c]) => h('tr', {}, h('td', {}, z), h('td', {}, c)))),
      h('table', { class: 'compact' }, h('tr', {}, h('th', {}, 'host'), h('th', {}, 'replicas')),
        byHost.slice(0, HOST_ROWS).map(([n, c]) => h('tr', {}, h('td', {}, n), h('td', {}, c))),
        byHost.length > HOST_ROWS ? h('tr', {}, h('td', { class: 'muted' }, `… ${byHost.length - HOST_ROWS} more hosts`), h('td', {})) : '')),
    moves.length ? h('ul', { class: 'moves' }, moves.slice(0, 20).map((v) =>
      h('li', {}, `${v.replaces} → ${v.name} on ${v.node || '(not placed yet)'} (${v.phase})`))) : '');
}

export class VMSetsView {
  mount(el) { this.el = el; }

  update(state) {
    const vms = [...state.caches.vms.objects.values()];
    const sets = [...state.caches.vmsets.objects.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    this.el.replaceChildren(...(sets.length ? sets.map((s) => vmsetCard(s, vms, state)) : [h('p', { class: 'muted' }, 'No VMSets yet.')]));
  }
}

// Balancers: each one's endpoints with their health, weight, draining and
// active connections, as the data plane last reported them.
import { h, figure } from './dom.js';
import { percent, age } from './format.js';

function balancerCard(b) {
  const name = b.metadata.name, spec = b.spec || {}, st = b.status || {};
  const endpoints = st.endpoints || [];
  const healthy = endpoints.filter((e) => e.health === 'Healthy').length;
  return h('section', { class: 'card', 'data-balancer': name },
    h('h2', {}, `Balancer ${name}`, h('span', { class: 'sub' },
      ` ${spec.listen || ''} · ${spec.mode || ''} ${spec.algorithm || ''} · `, figure(`balancer/${name}/healthy`, healthy, `${healthy}/${endpoints.length} healthy`),
      st.lastReportTime ? ` · reported ${age(st.lastReportTime)} ago by ${st.reportedBy || '?'}` : ' · no data-plane report yet')),
    endpoints.length === 0 ? h('p', { class: 'warn' }, 'No endpoints: no VM it selects is running.') :
      h('table', {},
        h('tr', {}, ['VM', 'host', 'address', 'health', 'weight', 'draining', 'connections'].map((c) => h('th', {}, c))),
        endpoints.map((e) => h('tr', { class: e.health === 'Unhealthy' ? 'bad' : '' },
          h('td', {}, e.vm), h('td', {}, e.node), h('td', {}, e.address),
          h('td', {}, h('span', { class: 'pill health-' + e.health }, e.health)),
          h('td', {}, percent(e.weight ?? 1, 0)),
          h('td', {}, e.draining ? (e.drained ? 'drained' : `since ${age(e.drainingSince)}`) : ''),
          h('td', {}, `${e.activeConnections ?? 0}`)))));
}

export class BalancersView {
  mount(el) { this.el = el; }

  update(state) {
    const list = [...state.caches.balancers.objects.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    this.el.replaceChildren(...(list.length ? list.map(balancerCard) : [h('p', { class: 'muted' }, 'No Balancers yet.')]));
  }
}

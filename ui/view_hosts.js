// Hosts: CPU and memory over the last 15 minutes as sparklines, the VMs on
// each, and (for admins) cordon, uncordon and drain. The table is
// virtualised: only the rows in sight are in the DOM, so 5,000 hosts scroll
// as smoothly as five.
import { h, figure } from './dom.js';
import { cores, bytes, age } from './format.js';
import { sparkline } from './charts.js';
import { hostFlag, flagText, vmsByNode, ZONE_LABEL } from './model.js';

const ROW = 46;        // px, as .hostrow in style.css
const OVERSCAN = 8;
const SEVERITY = { notready: 0, unreachable: 1, restarting: 2, draining: 3, cordoned: 4, '': 5 };

export class HostsView {
  mount(el, state) {
    this.state = state;
    this.filter = h('input', { type: 'search', placeholder: 'filter: name, zone, status', value: state.ui.hostFilter || '',
      oninput: () => { state.ui.hostFilter = this.filter.value; this.update(state); } });
    this.count = h('span', { class: 'muted' });
    this.spacer = h('div', { class: 'spacer' });
    this.scroller = h('div', { class: 'scroller', onscroll: () => this.renderRows() }, this.spacer);
    el.replaceChildren(
      h('div', { class: 'toolbar' }, this.filter, this.count),
      h('div', { class: 'hostrow head' }, h('span', {}, 'host'), h('span', {}, 'status'), h('span', {}, 'zone'),
        h('span', {}, 'CPU, 15 min'), h('span', {}, 'memory, 15 min'), h('span', {}, 'VMs'), h('span', {}, '')),
      this.scroller);
  }

  update(state) {
    this.state = state;
    const words = (state.ui.hostFilter || '').toLowerCase().split(/\s+/).filter(Boolean);
    const rows = [];
    for (const n of state.caches.nodes.objects.values()) {
      const flag = hostFlag(n);
      const text = `${n.name} ${n.labels[ZONE_LABEL] || ''} ${n.phase} ${flagText(flag)}`.toLowerCase();
      if (words.every((w) => text.includes(w))) rows.push({ node: n, flag });
    }
    rows.sort((a, b) => SEVERITY[a.flag] - SEVERITY[b.flag] || a.node.name.localeCompare(b.node.name));
    this.rows = rows;
    this.vms = vmsByNode(state.caches.vms.objects);
    this.count.textContent = `${rows.length} of ${state.caches.nodes.objects.size} hosts`;
    this.count.setAttribute('data-count', rows.length);
    this.spacer.style.height = `${rows.length * ROW}px`;
    this.renderRows();
  }

  renderRows() {
    if (!this.rows) return;
    const first = Math.max(0, Math.floor(this.scroller.scrollTop / ROW) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((this.scroller.scrollTop + this.scroller.clientHeight) / ROW) + OVERSCAN);
    const children = [];
    for (let i = first; i < last; i++) children.push(this.row(this.rows[i], i));
    this.spacer.replaceChildren(...children);
  }

  row({ node: n, flag }, i) {
    const state = this.state;
    const usage = state.usage.get(n.name);
    const vms = this.vms.get(n.name) || [];
    const actions = [];
    if (state.admin) {
      actions.push(n.unschedulable || n.drain
        ? h('button', { onclick: () => state.actions.uncordon(n.name), 'data-action': 'uncordon' }, 'Uncordon')
        : h('button', { onclick: () => state.actions.cordon(n.name), 'data-action': 'cordon' }, 'Cordon'));
      if (!n.drain) actions.push(h('button', { class: 'danger', onclick: () => state.actions.drain(n.name), 'data-action': 'drain' }, 'Drain'));
    }
    return h('div', { class: 'hostrow ' + flag, style: `top:${i * ROW}px`, 'data-host': n.name, 'data-phase': n.phase },
      h('span', { class: 'name', title: n.name }, n.name),
      h('span', {}, h('span', { class: 'pill phase-' + n.phase }, n.phase), flag && flag !== 'notready' && flag !== 'unreachable' ? h('span', { class: 'pill ' + flag }, flagText(flag)) : '',
        h('span', { class: 'muted small', title: 'last heartbeat' }, ` ${age(n.lastHeartbeatTime)}`)),
      h('span', {}, n.labels[ZONE_LABEL] || '–'),
      h('span', { class: 'metric' }, usage ? sparkline(usage.cpu, n.allocatable.cpu, 'cpu') : '',
        figure(`node/${n.name}/usage.cpu`, n.usage.cpu, `${cores(n.usage.cpu)}/${cores(n.allocatable.cpu)}`)),
      h('span', { class: 'metric' }, usage ? sparkline(usage.memory, n.allocatable.memory, 'memory') : '',
        figure(`node/${n.name}/usage.memory`, n.usage.memory, `${bytes(n.usage.memory)}/${bytes(n.allocatable.memory)}`)),
      h('span', { class: 'vms', title: vms.map((v) => `${v.name} (${v.phase})`).join('\n') },
        figure(`node/${n.name}/vms`, vms.length, vms.length), vms.length ? ': ' + vms.slice(0, 3).map((v) => v.name).join(', ') + (vms.length > 3 ? ', …' : '') : ''),
      h('span', { class: 'actions' }, actions));
  }
}

// Events: live, newest first, filtered by type and by any words of their
// reason, object or message.
import { h } from './dom.js';
import { age } from './format.js';

const ROWS = 300;

export class EventsView {
  mount(el, state) {
    this.type = h('select', { onchange: () => { state.ui.eventType = this.type.value; this.update(state); } },
      ['All', 'Warning', 'Normal'].map((t) => h('option', { value: t, selected: state.ui.eventType === t }, t)));
    this.filter = h('input', { type: 'search', placeholder: 'filter: reason, object, message', value: state.ui.eventFilter || '',
      oninput: () => { state.ui.eventFilter = this.filter.value; this.update(state); } });
    this.count = h('span', { class: 'muted' });
    this.body = h('tbody');
    el.replaceChildren(h('div', { class: 'toolbar' }, this.type, this.filter, this.count),
      h('table', { class: 'events' },
        h('thead', {}, h('tr', {}, ['age', 'type', 'reason', 'object', 'count', 'message'].map((c) => h('th', {}, c)))),
        this.body));
  }

  update(state) {
    const type = state.ui.eventType || 'All';
    const words = (state.ui.eventFilter || '').toLowerCase().split(/\s+/).filter(Boolean);
    const events = [...state.caches.events.objects.values()]
      .filter((e) => type === 'All' || e.type === type)
      .filter((e) => { const t = `${e.reason} ${e.object} ${e.message}`.toLowerCase(); return words.every((w) => t.includes(w)); })
      .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
    this.count.textContent = `${events.length} events` + (events.length > ROWS ? ` (newest ${ROWS} shown)` : '');
    const now = Date.now();
    this.body.replaceChildren(...events.slice(0, ROWS).map((e) =>
      h('tr', { class: e.type === 'Warning' ? 'warning' : '', 'data-reason': e.reason },
        h('td', {}, age(e.time, now)), h('td', {}, e.type), h('td', {}, e.reason), h('td', {}, e.object),
        h('td', {}, `${e.count}`), h('td', {}, e.message))));
  }
}

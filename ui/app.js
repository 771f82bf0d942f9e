// The dashboard: sign in with a token, keep six kinds current with one
// watch, and render the tab in view at most five times a second.
import { Api } from './api.js';
import { ClusterFeed, KindCache } from './cache.js';
import { h } from './dom.js';
import { compactNode, compactVM, compactEvent, UsageSeries } from './model.js';
import { OverviewView } from './view_overview.js';
import { PoolView } from './view_pool.js';
import { HostsView } from './view_hosts.js';
import { VMSetsView } from './view_vmsets.js';
import { BalancersView } from './view_balancers.js';
import { EventsView } from './view_events.js';

const TABS = [
  ['overview', 'Overview', OverviewView], ['pool', 'Pool', PoolView], ['hosts', 'Hosts', HostsView],
  ['vmsets', 'VMSets', VMSetsView], ['balancers', 'Balancers', BalancersView], ['events', 'Events', EventsView],
];
const TOKEN_KEY = 'corral.token';
const RENDER_EVERY_MS = 200;
const MAX_EVENTS = 2000;

const $ = (id) => document.getElementById(id);
let session = null;  // {api, abort, state, view, tab}

function toast(text, bad) {
  const el = h('div', { class: 'toast' + (bad ? ' bad' : '') }, text);
  $('toasts').append(el);
  setTimeout(() => el.remove(), bad ? 8000 : 4000);
}

function actions(api) {
  const run = async (what, call) => {
    try { await call(); toast(what); } catch (e) { toast(`${what} failed: ${e.message}`, true); }
  };
  return {
    cordon: (n) => run(`node/${n} cordoned`, () => api.patch('nodes', n, { spec: { unschedulable: true } })),
    // Uncordoning ends a drain too, as corralctl uncordon does.
    uncordon: (n) => run(`node/${n} uncordoned`, () => api.patch('nodes', n, { spec: { unschedulable: false, drain: false } })),
    drain: (n) => {
      const key = `drain:${n}`;
      if (session.state.ui.armed !== key) {
        session.state.ui.armed = key;
        toast(`Click Drain again within 5 s to move every VM off ${n}.`);
        setTimeout(() => { if (session && session.state.ui.armed === key) session.state.ui.armed = ''; }, 5000);
        return;
      }
      session.state.ui.armed = '';
      run(`node/${n} draining`, () => api.patch('nodes', n, { spec: { unschedulable: true, drain: true } }));
    },
    scale: (s, replicas) => {
      if (!Number.isInteger(replicas) || replicas < 0) return toast('replicas must be a whole number ≥ 0', true);
      run(`vmset/${s} scaled to ${replicas}`, () => api.patch('vmsets', s, { spec: { replicas } }, 'scale'));
    },
  };
}

function schedule() {
  if (!session || session.pending) return;
  session.pending = true;
  setTimeout(render, RENDER_EVERY_MS);
}

function render() {
  if (!session) return;
  session.pending = false;
  const { error, synced } = session.feed;
  const status = $('status');
  status.textContent = error ? `reconnecting: ${error}` : synced ? 'live' : 'loading…';
  status.className = error ? 'bad' : synced ? 'ok' : '';
  status.setAttribute('data-synced', synced && !error ? 'true' : 'false');
  const started = performance.now();
  session.view.update(session.state);
  noteRender(performance.now() - started);
}

// How long each render took, for bench/ui_bench (the last 200).
const renders = (window.corralRenders = []);
function noteRender(ms) {
  renders.push({ view: $('view').dataset.view, ms });
  if (renders.length > 200) renders.shift();
}

function showTab() {
  if (!session) return;
  const name = (location.hash.replace(/^#\/?/, '') || 'overview');
  const tab = TABS.find((t) => t[0] === name) || TABS[0];
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.tab === tab[0]);
  const el = $('view');
  el.replaceChildren();
  el.setAttribute('data-view', tab[0]);
  session.view = new tab[2]();
  session.view.mount(el, session.state);
  session.view.update(session.state);
}

function signOut(message) {
  if (session) session.abort.abort();
  session = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $('app').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = message || '';
}

function start(api, user) {
  const abort = new AbortController();
  const state = { caches: {}, usage: new UsageSeries(), admin: (user.groups || []).includes('corral:admin'), ui: {}, actions: actions(api) };
  session = { api, abort, state, pending: false };
  state.caches = {
    pools: new KindCache('Pool', 'pools'),
    nodes: new KindCache('Node', 'nodes', { compact: compactNode }),
    vmsets: new KindCache('VMSet', 'vmsets'),
    vms: new KindCache('VM', 'vms', { compact: compactVM }),
    balancers: new KindCache('Balancer', 'balancers'),
    events: new KindCache('Event', 'events', { compact: compactEvent, limit: MAX_EVENTS }),
  };
  session.feed = new ClusterFeed(api, Object.values(state.caches), {
    onChange: (cache, event) => {
      // Every Node the watch brings is a fresh sample for its sparklines;
      // a deleted one's series goes with it.
      if (cache === state.caches.nodes && event.type === 'DELETED') {
        state.usage.forget(event.object.metadata.name);
      } else if (cache === state.caches.nodes) {
        const n = cache.objects.get(event.object.metadata.name);
        if (n) state.usage.add(n.name, n.usage.cpu, n.usage.memory);
      }
      schedule();
    },
    onAuthError: () => signOut('Your token is no longer accepted: sign in again.'),
  });
  $('signin').hidden = true;
  $('app').hidden = false;
  $('user').textContent = `${user.username} (${state.admin ? 'admin' : (user.groups || []).join(', ').replace(/corral:/g, '')})`;
  $('user').setAttribute('data-role', state.admin ? 'admin' : 'viewer');
  api.usageHistory().then((history) => { state.usage.seed(history); schedule(); }).catch(() => {});
  session.feed.run(abort.signal);
  showTab();
}

async function signIn(token) {
  const api = new Api(token);
  const user = await api.whoami();
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  start(api, user);
}

function boot() {
  $('nav').replaceChildren(...TABS.map(([id, label]) => h('a', { href: `#/${id}`, 'data-tab': id }, label)));
  window.addEventListener('hashchange', showTab);
  $('signin').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn($('token').value.trim()).catch((err) =>
      signOut(err.status === 401 ? 'That token is not accepted.' : `Cannot reach the controller: ${err.message}`));
  });
  $('signout').addEventListener('click', () => signOut(''));
  // A token from this tab's earlier sign-in, or none: a controller without
  // tokens (the local quick start) answers anyone on loopback as admin.
  signIn(sessionStorage.getItem(TOKEN_KEY) || '').catch((err) =>
    signOut(err.status === 401 ? '' : `Cannot reach the controller: ${err.message}`));
}

boot();

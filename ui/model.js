// What the views read, derived from the caches: the compact forms kept per
// object, pool membership, VMs per host, and each host's usage history.
import { quantity } from './format.js';

export const ZONE_LABEL = 'topology.corral.io/zone';
export const VMSET_LABEL = 'corral.io/vmset';
export const REPLACES_ANNOTATION = 'corral.io/replaces';
export const AVAILABILITY_TARGET = 0.99;  // as manifests/monitoring/corral-alerts.yml

const resources = (r) => ({ cpu: quantity((r || {}).cpu), memory: quantity((r || {}).memory) });

export function compactNode(n) {
  const spec = n.spec || {}, status = n.status || {};
  return {
    name: n.metadata.name,
    labels: n.metadata.labels || {},
    unschedulable: !!spec.unschedulable,
    drain: !!spec.drain,
    phase: status.phase || 'Unknown',
    allocatable: resources(status.allocatable),
    usage: resources(status.usage),
    availability: status.availability,
    lastHeartbeatTime: status.lastHeartbeatTime || '',
    driver: status.driver || '',
  };
}

export function compactVM(vm) {
  const meta = vm.metadata, spec = vm.spec || {}, status = vm.status || {};
  return {
    name: meta.name,
    vmset: (meta.labels || {})[VMSET_LABEL] || '',
    replaces: (meta.annotations || {})[REPLACES_ANNOTATION] || '',
    node: status.nodeName || spec.nodeName || '',
    phase: status.phase || 'Pending',
    restarts: status.restarts || 0,
    lastError: status.lastError || '',
  };
}

export function compactEvent(e) {
  const o = e.involvedObject || {};
  return {
    name: e.metadata.name,
    type: e.type || 'Normal',
    reason: e.reason || '',
    message: e.message || '',
    object: `${(o.kind || '').toLowerCase()}/${o.name || ''}`,
    count: e.count || 1,
    time: e.lastTimestamp || e.firstTimestamp || e.metadata.creationTimestamp || '',
  };
}

// '' for a host that is fine; else what makes it stand out.
export function hostFlag(node) {
  if (node.phase === 'NotReady') return 'notready';
  if (node.phase === 'Unreachable') return 'unreachable';
  if (node.phase === 'Restarting') return 'restarting';
  if (node.drain) return 'draining';
  if (node.unschedulable) return 'cordoned';
  return '';
}

export function flagText(flag) {
  return { notready: 'NotReady', unreachable: 'Unreachable', restarting: 'Restarting',
    draining: 'Draining', cordoned: 'Cordoned' }[flag] || '';
}

export function inPool(pool, node) {
  const selector = (pool.spec || {}).nodeSelector || {};
  return Object.entries(selector).every(([k, v]) => node.labels[k] === v);
}

// A host's share of its allocatable in use, the larger of CPU and memory (Rᵢ).
export function measuredLoad(node) {
  const share = (used, of) => (of > 0 ? used / of : 0);
  return Math.max(share(node.usage.cpu, node.allocatable.cpu), share(node.usage.memory, node.allocatable.memory));
}

export function vmsByNode(vms) {
  const index = new Map();
  for (const vm of vms.values()) {
    if (!vm.node) continue;
    let list = index.get(vm.node);
    if (!list) index.set(vm.node, (list = []));
    list.push(vm);
  }
  return index;
}

// Each host's CPU and memory in 15-s buckets, 15 minutes of them: seeded from
// the controller's history (GET /usage/nodes), then fed by the Node watch.
export class UsageSeries {
  constructor() {
    this.interval = 15000;
    this.slots = 60;
    this.series = new Map();  // name → {bucket, cpu: [], memory: [], sum}
  }

  seed(history) {
    if (!history || !history.nodes) return;
    this.interval = (history.intervalSeconds || 15) * 1000;
    const end = Date.parse(history.end);
    const newest = Math.floor((end - 1) / this.interval);
    for (const n of history.nodes) {
      this.series.set(n.name, { bucket: newest, cpu: n.cpu.slice(-this.slots), memory: n.memory.slice(-this.slots),
        open: null });
    }
  }

  add(name, cpu, memory, at = Date.now()) {
    const bucket = Math.floor(at / this.interval);
    let s = this.series.get(name);
    if (!s) this.series.set(name, (s = { bucket, cpu: Array(this.slots).fill(null), memory: Array(this.slots).fill(null), open: null }));
    this.shift(s, bucket);
    const open = s.open && s.open.bucket === bucket ? s.open : (s.open = { bucket, cpu: 0, memory: 0, n: 0 });
    open.cpu += cpu; open.memory += memory; open.n++;
    s.cpu[this.slots - 1] = open.cpu / open.n;
    s.memory[this.slots - 1] = open.memory / open.n;
  }

  shift(s, bucket) {
    const by = Math.min(this.slots, bucket - s.bucket);
    if (by <= 0) return;
    s.cpu = s.cpu.slice(by).concat(Array(by).fill(null));
    s.memory = s.memory.slice(by).concat(Array(by).fill(null));
    s.bucket = bucket;
  }

  get(name) {
    const s = this.series.get(name);
    if (!s) return null;
    this.shift(s, Math.floor(Date.now() / this.interval));
    return s;
  }

  forget(name) { this.series.delete(name); }
}

// The objects the page shows, kept current by one watch of several kinds,
// as client-go's reflector keeps a cache: watch from 0 (the current objects,
// then a BOOKMARK that ends them: the caches are swapped in whole), resume
// from the last resourceVersion when the server ends the stream, start from
// 0 again when it says that version is gone (410), back off while the
// controller is away. `compact` keeps only what the views read, so 50,000
// VMs stay small; `limit` keeps the newest (Events).

const sleep = (ms, signal) => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms);
  if (signal) signal.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
});

const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

export class KindCache {
  constructor(kind, plural, { compact = (o) => o, limit = 0 } = {}) {
    this.kind = kind;
    this.plural = plural;
    this.compact = compact;
    this.limit = limit;
    this.objects = new Map();
    this.synced = false;
  }

  apply(objects, event) {
    const name = event.object.metadata.name;
    if (event.type === 'DELETED') objects.delete(name);
    else objects.set(name, this.compact(event.object));
    if (this.limit && objects.size > this.limit) {
      // Map keeps insertion order: the first entries are the oldest seen.
      let excess = objects.size - this.limit;
      for (const key of objects.keys()) {
        if (excess-- <= 0) break;
        objects.delete(key);
      }
    }
  }
}

export class ClusterFeed {
  constructor(api, caches, { onChange = () => {}, onAuthError = () => {} } = {}) {
    this.api = api;
    this.caches = caches;  // [KindCache]
    this.byKind = new Map(caches.map((c) => [c.kind, c]));
    this.onChange = onChange;  // (cache or null, event or null)
    this.onAuthError = onAuthError;
    this.error = '';
  }

  get synced() { return this.caches.every((c) => c.synced); }

  async run(signal) {
    const plurals = this.caches.map((c) => c.plural);
    let rv = '0', backoff = 500;
    while (!signal.aborted) {
      // From 0: the snapshot fills fresh maps, swapped in at its BOOKMARK, so
      // a resync never shows half a cluster.
      let pending = rv === '0' ? new Map(this.caches.map((c) => [c.kind, new Map()])) : null;
      try {
        const last = await this.api.watch(plurals, rv, (event) => {
          if (event.type === 'BOOKMARK') {
            const annotations = (event.object.metadata || {}).annotations || {};
            if (pending && annotations[INITIAL_EVENTS_END] === 'true') {
              for (const c of this.caches) { c.objects = pending.get(c.kind); c.synced = true; }
              pending = null;
              rv = event.object.metadata.resourceVersion;
              this.error = '';
              this.onChange(null, null);
            }
            return;
          }
          const cache = event.object && event.object.metadata && this.byKind.get(event.object.kind);
          if (!cache) return;
          cache.apply(pending ? pending.get(cache.kind) : cache.objects, event);
          if (!pending) {
            rv = event.object.metadata.resourceVersion;
            this.onChange(cache, event);
          }
        }, signal);
        // The server ended the stream (its timeout): resume where it stopped,
        // or from 0 if it stopped before the snapshot was whole.
        if (pending) rv = '0';
        else if (rv === '0') rv = last;
        backoff = 500;
      } catch (e) {
        if (signal.aborted) return;
        if (e.status === 401) { this.onAuthError(e); return; }
        if (e.status === 410 || pending) rv = '0';
        if (e.status !== 410) {
          this.error = e.message;
          this.onChange(null, null);
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, 10000);
        }
      }
    }
  }
}

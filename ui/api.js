// The dashboard's one door to the controller: the same REST API as corralctl
// and kubectl, with the token the user signed in with. Nothing is polled: one
// streaming watch (NDJSON over one fetch) brings every change.

const GROUP = '/apis/corral/v1';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export class Api {
  constructor(token) {
    this.token = token || '';
  }

  headers(extra) {
    const h = Object.assign({ Accept: 'application/json' }, extra || {});
    if (this.token) h.Authorization = 'Bearer ' + this.token;
    return h;
  }

  async request(method, path, body, contentType) {
    const init = { method, headers: this.headers(), cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = contentType || 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON: keep the text */ }
    if (!res.ok) {
      const message = (json && json.message) || text || res.statusText;
      throw new ApiError(res.status, message);
    }
    return json;
  }

  // Who the token belongs to: {username, groups: ["corral:admin"|...]}.
  async whoami() {
    const review = await this.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    return review.status.userInfo;
  }

  usageHistory() {
    return this.request('GET', '/usage/nodes');
  }

  // JSON merge patch (RFC 7386) of one object, or of its scale subresource.
  patch(plural, name, patch, subresource) {
    const path = `${GROUP}/${plural}/${encodeURIComponent(name)}` + (subresource ? '/' + subresource : '');
    return this.request('PATCH', path, patch, 'application/merge-patch+json');
  }

  // Streams one watch of several kinds (GET /apis/corral/v1/watch?kinds=):
  // a browser keeps at most six connections to a server, so the page holds
  // one stream, not one per kind. From resourceVersion 0 the stream begins
  // with every object as ADDED and a BOOKMARK marking the end of those.
  // Calls onEvent(event) for each line until the server ends the stream (its
  // timeout) or `signal` aborts. Resolves with the last resourceVersion seen;
  // rejects with ApiError (410: too old, watch from 0 again).
  async watch(plurals, rv, onEvent, signal) {
    const url = `${GROUP}/watch?kinds=${plurals.join(',')}&resourceVersion=${encodeURIComponent(rv)}&timeoutSeconds=300`;
    const res = await fetch(url, { headers: this.headers(), signal, cache: 'no-store' });
    if (!res.ok) throw new ApiError(res.status, await res.text());
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    let last = rv;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const event = JSON.parse(line);
        if (event.type === 'ERROR') {
          const status = event.object || {};
          throw new ApiError(status.code || 500, status.message || 'watch error');
        }
        const meta = event.object && event.object.metadata;
        if (meta && meta.resourceVersion) last = meta.resourceVersion;
        onEvent(event);
      }
    }
    return last;
  }
}

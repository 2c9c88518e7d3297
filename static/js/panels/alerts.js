// Alerts: the recent ones from /api/alerts once (when the server has that route), then live
// from the `alerts` topic. A `resolved` alert closes the firing one it names.
import { bus } from '../bus.js';
import { clock, score } from '../format.js';

const MAX_ALERTS = 200;
const SEVERITIES = new Set(['info', 'warning', 'critical']);

/** Accepts one alert, an array, or {alerts|items: [...]}, as a topic or route may send them. */
export function alertList(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.alerts)) return data.alerts;
  if (data && Array.isArray(data.items)) return data.items;
  return data && typeof data === 'object' && 'id' in data ? [data] : [];
}

export function alertsFeed() {
  const byId = new Map();
  // From /api/alerts: the ids firing when the page loaded. A loaded `firing` alert missing from
  // it was resolved by an alert older than the page's limit.
  let firingAtLoad = null;
  const loaded = new Set();

  return {
    items: [],
    firing: 0,
    source: 'live',
    note: '',

    init() {
      bus.on('alertsLoaded', (r) => {
        if (r.ok) {
          const firing = Array.isArray(r.body?.firing) ? r.body.firing : null;
          if (firing !== null) firingAtLoad = new Set(firing.map((a) => String(a.id)));
          const list = [...alertList(r.body), ...(firing ?? [])];
          for (const a of list) if (a && a.id !== undefined) loaded.add(String(a.id));
          this.add(list);
        } else
          this.note =
            r.status === 404
              ? 'This server keeps no alert history yet; new alerts appear here live.'
              : `Could not load past alerts (${r.status || 'network error'}).`;
      });
      bus.on('alerts', (data) => this.add(alertList(data)), { replay: false });
    },

    get noItems() {
      return this.items.length === 0;
    },

    add(list) {
      for (const a of list) {
        if (a === null || typeof a !== 'object' || a.id === undefined) continue;
        byId.set(String(a.id), a);
      }
      const all = [...byId.values()].sort((x, y) => Date.parse(y.at) - Date.parse(x.at)).slice(0, MAX_ALERTS);
      const resolved = new Set(all.filter((a) => a.status === 'resolved' && a.resolves !== undefined).map((a) => String(a.resolves)));
      // Without `resolves`, a later resolved alert of the same rule closes the earlier firing one.
      const lastResolvedByRule = new Map();
      for (const a of all)
        if (a.status === 'resolved' && a.resolves === undefined && !lastResolvedByRule.has(a.rule))
          lastResolvedByRule.set(a.rule, Date.parse(a.at));
      const isClosed = (a) =>
        resolved.has(String(a.id)) ||
        (lastResolvedByRule.get(a.rule) ?? -Infinity) > Date.parse(a.at) ||
        (firingAtLoad !== null && loaded.has(String(a.id)) && !firingAtLoad.has(String(a.id)));
      this.items = all.map((a) => {
        const sev = SEVERITIES.has(a.severity) ? a.severity : 'info';
        const closed = a.status === 'resolved' || isClosed(a);
        return {
          id: String(a.id),
          title: String(a.title ?? a.rule ?? 'alert'),
          message: String(a.message ?? ''),
          rule: String(a.rule ?? ''),
          severity: sev,
          status: a.status === 'resolved' ? 'resolved' : closed ? 'firing → resolved' : 'firing',
          cls: `alert sev-${sev}${closed ? ' closed' : ''}`,
          sevCls: `sev sev-${sev}`,
          at: clock(a.at),
          iso: String(a.at ?? ''),
          value:
            typeof a.value === 'number'
              ? `value ${score(a.value)}${typeof a.threshold === 'number' ? ` / threshold ${score(a.threshold)}` : ''}`
              : '',
        };
      });
      this.firing = this.items.filter((a) => a.status === 'firing').length;
      bus.emit('alertCount', this.firing);
    },
  };
}

/** Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and are not forwarded. */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The end-to-end headers of a message, less `drop` and whatever `Connection` names. */
export function endToEnd(headers: IncomingHttpHeaders, drop: string[] = []): OutgoingHttpHeaders {
  const named = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.includes(name)) continue;
    if (drop.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * True for a request that asks to switch protocols: an `Upgrade` header, or `upgrade` among the
 * `Connection` options. The gateway forwards model calls only, never a tunnel.
 */
export function isUpgrade(headers: IncomingHttpHeaders): boolean {
  if (headers.upgrade !== undefined) return true;
  return String(headers.connection ?? '')
    .split(',')
    .some((option) => option.trim().toLowerCase() === 'upgrade');
}

import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

/**
 * One POST to a webhook receiver. Redirects are never followed (a 3xx is a failed delivery: following one
 * would re-send the signed body wherever the receiver points). With `blockPrivateAddresses` (production) the
 * receiver's host must resolve to public addresses only: the check runs inside the connection's own DNS
 * lookup, so the address checked is the address connected to (no second lookup an attacker could answer
 * differently).
 */

const PRIVATE = new net.BlockList();
for (const [net4, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net4, bits, 'ipv4');
for (const [net6, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net6, bits, 'ipv6');

/** Loopback, link-local, private (RFC 1918, ULA), carrier-grade NAT, multicast and reserved ranges. */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1]!, 'ipv4');
  const family = net.isIP(address);
  if (family === 0) return true; // not an address at all: refuse rather than guess
  return PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

export class WebhookAddressError extends Error {
  constructor(host: string, address: string) {
    super(`webhook host ${host} resolves to ${address}, a private, loopback or link-local address (refused)`);
    this.name = 'WebhookAddressError';
  }
}

/** A lookup that refuses private addresses; used as the socket's own resolver. */
function publicOnlyLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as dns.LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(new WebhookAddressError(hostname, bad.address), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    const first = list[0]!;
    callback(null, first.address, first.family);
  });
}
type LookupCallback = (err: Error | null, address: string, family: number) => void;

export interface WebhookPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  blockPrivateAddresses: boolean;
}

/** Resolves with the receiver's status (any status: the caller decides); rejects on network errors. */
export function postWebhook(p: WebhookPost): Promise<number> {
  const url = new URL(p.url);
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (p.blockPrivateAddresses && net.isIP(literal) && isPrivateAddress(literal))
    return Promise.reject(new WebhookAddressError(url.hostname, literal));
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: { ...p.headers, 'content-length': String(Buffer.byteLength(p.body)) },
        timeout: p.timeoutMs,
        ...(p.blockPrivateAddresses ? { lookup: publicOnlyLookup as never } : {}),
      },
      (res) => {
        res.resume(); // the body is not read: only the status matters, and the socket is freed
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${p.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(p.body);
  });
}

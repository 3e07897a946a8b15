import type { IncomingHttpHeaders } from 'node:http';

/**
 * Who may open a development session: a client on this machine talking to it directly. The TCP peer decides
 * (never X-Forwarded-For, whatever TRUST_PROXY says), and anything a proxy adds makes it a refusal: behind a
 * proxy every client would look local. Host and Origin must name this machine too, so a web page that
 * rebinds its own domain to 127.0.0.1 cannot read a token from a developer's browser.
 */

const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip'] as const;

/** 127.0.0.0/8 and ::1, also in their IPv4-mapped IPv6 form (::ffff:127.0.0.1). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4)) return true;
  return address === '::1' || address === '0:0:0:0:0:0:0:1';
}

/** localhost (and *.localhost, which browsers resolve locally), 127.x.y.z and [::1], with or without a port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (hostname === '[::1]') return true;
  return isLoopbackAddress(hostname);
}

export interface LoopbackRequest {
  socket: { remoteAddress?: string | undefined };
  headers: IncomingHttpHeaders;
}

/** Why the request is not a direct local one, or undefined when it is. */
export function loopbackRefusal(req: LoopbackRequest): string | undefined {
  if (!isLoopbackAddress(req.socket.remoteAddress)) return 'the client is not on this machine';
  const forwarded = FORWARDING_HEADERS.find((h) => req.headers[h] !== undefined);
  if (forwarded) return `the request came through a proxy (${forwarded})`;
  if (!isLoopbackHost(req.headers.host)) return 'the Host header does not name this machine';
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (!isLoopbackHost(originHost)) return 'the page asking is not served from this machine';
  }
  return undefined;
}

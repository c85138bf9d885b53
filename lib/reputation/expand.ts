import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { isPublicAddress, parseAddress } from '../ip-address.js';
import { Agent } from 'undici';
import { PhishXError } from '../errors.js';
import { reputationRequestError } from './request-error.js';

/**
 * DNS lookup for outgoing expansion requests: resolves, refuses the host if any address is
 * not public, and hands the checked address to the socket — the connection goes exactly
 * where the check looked (no re-resolution between check and connect, no DNS rebinding).
 */
export function safeLookup(allowPrivate = false): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { all: true, family: options.family }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses;
      const bad = list.find((a) => !allowPrivate && !isPublicAddress(a.address));
      if (bad || !list.length) {
        const e = Object.assign(new Error(`refusing to connect to ${hostname} (${bad?.address ?? 'no address'}): not a public address`), {
          code: 'PHISHX_SSRF_BLOCKED',
        });
        return callback(e, '', 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
}

export interface ExpandOptions {
  maxHops: number;
  timeoutMs: number;
  /** Tests only: let the expander reach loopback servers. */
  allowPrivate?: boolean;
}

/**
 * Follow a short URL with HEAD requests (never GET: nothing is downloaded), at most
 * `maxHops` redirects and `timeoutMs` in all. IP-literal hosts are checked like resolved
 * ones. Returns the chain of URLs visited, first to last.
 */
export class UrlExpander {
  private readonly agent: Agent;
  constructor(private readonly opts: ExpandOptions) {
    this.agent = new Agent({
      connect: { lookup: safeLookup(opts.allowPrivate), timeout: opts.timeoutMs },
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 5000,
    });
  }

  async expand(url: string): Promise<string[]> {
    const chain = [url];
    const signal = AbortSignal.timeout(this.opts.timeoutMs);
    let current = url;
    for (let hop = 0; hop < this.opts.maxHops; hop++) {
      const u = new URL(current);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') break;
      const host = u.hostname.replace(/^\[|\]$/g, '');
      if (parseAddress(host) && !this.opts.allowPrivate && !isPublicAddress(host)) {
        throw new PhishXError('PHISHX_REPUTATION_BAD_RESPONSE', `refusing to follow to ${host}: not a public address`);
      }
      let res;
      try {
        res = await this.agent.request({
          origin: u.origin,
          path: `${u.pathname}${u.search}`,
          method: 'HEAD',
          signal,
          headers: { 'user-agent': 'PhishX-url-expander' },
        });
      } catch (err) {
        throw reputationRequestError(u.host, err, this.opts.timeoutMs);
      }
      await res.body.dump().catch(() => undefined);
      const header = res.headers.location;
      const loc = Array.isArray(header) ? header[0] : header;
      if (res.statusCode < 300 || res.statusCode > 399 || !loc) break;
      const next = URL.parse(loc, current);
      if (!next) throw new PhishXError('PHISHX_REPUTATION_BAD_RESPONSE', `${u.host} redirects to ${JSON.stringify(loc.slice(0, 80))}: not a URL`);
      current = next.toString();
      chain.push(current);
    }
    return chain;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

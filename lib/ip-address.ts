import ipaddr from 'ipaddr.js';

/**
 * The address an IP string really names: IPv6 forms that embed an IPv4 address
 * (IPv4-mapped `::ffff:a.b.c.d` and the deprecated IPv4-compatible `::a.b.c.d`, e.g.
 * `::7f00:1` = 127.0.0.1) become that IPv4 address, so no check can be walked around by
 * spelling an address in IPv6. Brackets are allowed (`[::1]`). Null when not an IP.
 */
export function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const s = ip.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(s)) return null;
  const a = ipaddr.parse(s);
  if (a.kind() === 'ipv4') return a;
  const v6 = a as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const p = v6.parts;
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0 && (p[6] !== 0 || p[7] > 1)) {
    return ipaddr.fromByteArray([p[6] >> 8, p[6] & 0xff, p[7] >> 8, p[7] & 0xff]);
  }
  return v6;
}

/**
 * A public unicast address: not loopback, private, link-local, carrier-grade NAT,
 * documentation, multicast, reserved, nor an IPv6 transition form (6to4, NAT64, Teredo)
 * that could carry one. Pure.
 */
export function isPublicAddress(ip: string): boolean {
  const a = parseAddress(ip);
  return a !== null && a.range() === 'unicast';
}

/**
 * The network a client connects from, the unit scan places are shared by (lib/fair-slots.ts):
 * an IPv4 address's /24, an IPv6 address's /48 (a site's allocation; one host commonly has a
 * /64 of its own); IPv6 forms of an IPv4 address as that address. Anything else is `other`.
 */
export function clientNetwork(ip: string | undefined | null): string {
  const a = ip ? parseAddress(ip) : null;
  if (!a) return 'other';
  if (a.kind() === 'ipv4') {
    const o = (a as ipaddr.IPv4).octets;
    return `${o[0]}.${o[1]}.${o[2]}.0/24`;
  }
  const p = (a as ipaddr.IPv6).parts;
  return `${p[0].toString(16)}:${p[1].toString(16)}:${p[2].toString(16)}::/48`;
}

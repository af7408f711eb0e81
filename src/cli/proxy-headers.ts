/**
 * `--proxy-headers` and `--forwarded-allow-ips` (SPEC.md §11.5): `proxyFix`
 * applied only to requests whose connection comes from a trusted proxy, so a
 * client that reaches the server directly cannot pose as another.
 */

import { BlockList, isIP } from "node:net";
import { proxyFix } from "../middleware.js";
import type { WSGIApplication } from "../types.js";
import { usageError } from "./cli-error.js";

/** The peers `--forwarded-allow-ips` trusts when it is not given. */
export const DEFAULT_ALLOW_IPS = "127.0.0.1,::1";

/** Which peers' `X-Forwarded-*` headers are trusted. */
export interface AllowedPeers {
  /** Whether `address` (a `REMOTE_ADDR`) is a trusted proxy. */
  allows(address: string): boolean;
}

/**
 * Parse `--forwarded-allow-ips`: a comma-separated list of IP addresses and
 * CIDR networks (`10.0.0.0/8`), or `*` for every peer. Throws a usage error
 * naming the first entry that is neither.
 */
export function parseAllowedPeers(list: string): AllowedPeers {
  const entries = list
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  if (entries.includes("*")) return { allows: () => true };
  const blocks = new BlockList();
  for (const entry of entries) {
    const [address = "", bits, extra] = entry.split("/");
    const family = isIP(address);
    const prefix = bits === undefined ? undefined : /^\d{1,3}$/.test(bits) ? Number(bits) : -1;
    const max = family === 6 ? 128 : 32;
    if (
      family === 0 ||
      extra !== undefined ||
      (prefix !== undefined && !(prefix <= max && prefix >= 0))
    ) {
      throw usageError(
        `--forwarded-allow-ips must list IP addresses or networks (or be '*'): '${entry}'`,
      );
    }
    const type = family === 6 ? "ipv6" : "ipv4";
    if (prefix === undefined) blocks.addAddress(address, type);
    else blocks.addSubnet(address, prefix, type);
  }
  return {
    allows(address: string): boolean {
      const peer = unmapped(address);
      const family = isIP(peer);
      return family !== 0 && blocks.check(peer, family === 6 ? "ipv6" : "ipv4");
    },
  };
}

/**
 * An IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, what a dual-stack socket
 * reports for an IPv4 peer) as the IPv4 address it is; anything else as is.
 */
export function unmapped(address: string): string {
  const match = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return match ? (match[1] as string) : address;
}

/**
 * Wrap `app` so that a request from an allowed peer goes through `proxyFix`
 * with every header trusted one hop deep, and any other as it came. A peer on
 * a Unix socket (no `REMOTE_ADDR`) is allowed: only processes that may open
 * the socket file reach it, which is how a proxy on the same machine connects.
 */
export function trustProxyHeaders(app: WSGIApplication, peers: AllowedPeers): WSGIApplication {
  const fixed = proxyFix(app, { xFor: 1, xProto: 1, xHost: 1, xPort: 1, xPrefix: 1 });
  return (environ, startResponse) => {
    const peer = environ.REMOTE_ADDR;
    const trusted = typeof peer !== "string" || peer === "" || peers.allows(peer);
    return trusted ? fixed(environ, startResponse) : app(environ, startResponse);
  };
}

import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP } from 'node:net';
import { isAllowedHost } from '@bgremover/core/contract';
import { InputRefusedError, TransientError } from './errors.js';

/**
 * Fetching a URL that came from outside (a chat attachment link) without letting it reach
 * anything the operator did not allow: redirects are followed by hand and every hop is checked
 * (host on the allow-list, https, hop count), and every address a name resolves to is checked
 * against loopback, private and link-local ranges at connect time (the lookup that checks is the
 * lookup the socket uses, so a name cannot resolve to a public address for the check and a
 * private one for the connection).
 */
export interface SafeFetchPolicy {
  /** Hosts (exact names or parent domains) a URL, and every redirect, must point at. */
  allowedHosts: readonly string[];
  /**
   * Names (exact or parent domains), IP addresses and CIDR ranges that may be fetched although
   * they are loopback/private/link-local, and over plain http. Empty outside tests and
   * deliberate internal setups.
   */
  allowPrivate: readonly string[];
  /** Redirects followed before giving up. */
  maxRedirects: number;
}

export interface SafeFetchRequest {
  url: string;
  /** Sent to the first URL's origin only; dropped for good at the first cross-origin redirect. */
  headers: Record<string, string>;
  signal: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Addresses an attachment link must never reach unless the operator opted in. */
const PRIVATE_RANGES = (() => {
  const list = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8], // "this network"
    ['10.0.0.0', 8],
    ['100.64.0.0', 10], // carrier-grade NAT
    ['127.0.0.0', 8],
    ['169.254.0.0', 16], // link-local, cloud metadata
    ['172.16.0.0', 12],
    ['192.0.0.0', 24], // IETF protocol assignments
    ['192.168.0.0', 16],
    ['198.18.0.0', 15], // benchmarking
    ['224.0.0.0', 4], // multicast
    ['240.0.0.0', 4], // reserved, broadcast
  ] as const) {
    list.addSubnet(net, prefix, 'ipv4');
  }
  for (const [net, prefix] of [
    ['::', 96], // unspecified, loopback (::1) and the deprecated IPv4-compatible block
    ['fc00::', 7], // unique local
    ['fe80::', 10], // link-local
    ['fec0::', 10], // old site-local
    ['ff00::', 8], // multicast
  ] as const) {
    list.addSubnet(net, prefix, 'ipv6');
  }
  return list;
})();

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::a.b.c.d) address. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const match = /^(?:::ffff:|64:ff9b::)(.+)$/.exec(lower);
  if (!match?.[1]) return undefined;
  const rest = match[1];
  if (isIP(rest) === 4) return rest;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest);
  if (!hex?.[1] || !hex[2]) return undefined;
  const high = Number.parseInt(hex[1], 16);
  const low = Number.parseInt(hex[2], 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** True for loopback, private, link-local and other non-public addresses (IPv4 and IPv6). */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return PRIVATE_RANGES.check(address, 'ipv4');
  if (family !== 6) return true; // not an address at all: refuse rather than guess
  const inner = embeddedIpv4(address);
  if (inner !== undefined) return PRIVATE_RANGES.check(inner, 'ipv4');
  return PRIVATE_RANGES.check(address, 'ipv6');
}

/** The operator's private opt-in, split into names and address ranges. */
class PrivateOptIn {
  readonly names: string[] = [];
  readonly ranges = new BlockList();

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw
        .trim()
        .toLowerCase()
        .replace(/^\[|\]$/g, '');
      if (!entry) continue;
      const slash = entry.indexOf('/');
      const address = slash === -1 ? entry : entry.slice(0, slash);
      const family = isIP(address);
      if (family === 0) {
        this.names.push(entry);
      } else {
        const type = family === 4 ? 'ipv4' : 'ipv6';
        if (slash === -1) this.ranges.addAddress(address, type);
        else this.ranges.addSubnet(address, Number(entry.slice(slash + 1)), type);
      }
    }
  }

  /** The host (a name or an IP literal) is opted in by name or by range. */
  coversHost(host: string): boolean {
    return isAllowedHost(host, this.names) || (isIP(host) !== 0 && this.coversAddress(host));
  }

  coversAddress(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    if (this.ranges.check(address, family === 4 ? 'ipv4' : 'ipv6')) return true;
    const inner = family === 6 ? embeddedIpv4(address) : undefined;
    return inner !== undefined && this.ranges.check(inner, 'ipv4');
  }
}

/** Checks that `ALLOW_PRIVATE_FETCH_HOSTS`-style entries parse (names, addresses, CIDRs). */
export function invalidPrivateEntry(entries: readonly string[]): string | undefined {
  for (const entry of entries) {
    try {
      new PrivateOptIn([entry]);
    } catch {
      return entry;
    }
    const slash = entry.indexOf('/');
    if (slash !== -1 && isIP(entry.slice(0, slash).replace(/^\[|\]$/g, '')) === 0) return entry;
  }
  return undefined;
}

/** Raised inside the socket's lookup; turned into an `InputRefusedError` by `safeFetch`. */
class PrivateAddressError extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(privateMessage(host, address));
    this.name = 'PrivateAddressError';
  }
}

function privateMessage(host: string, address: string): string {
  const resolves = host === address ? 'is' : `resolves to ${address}, which is`;
  return (
    `Attachments are not fetched from private or local addresses: ${host} ${resolves} ` +
    'loopback, private or link-local (ALLOW_PRIVATE_FETCH_HOSTS opts hosts in)'
  );
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `lookup` for sockets that refuses the whole name if any address it resolves to is private. */
function checkedLookup(optIn: PrivateOptIn) {
  return (
    hostname: string,
    options: { family?: number | string; hints?: number; all?: boolean },
    callback: LookupCallback,
  ): void => {
    const family =
      options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family) || 0;
    dnsLookup(
      hostname,
      { all: true, family, ...(options.hints ? { hints: options.hints } : {}) },
      (error, addresses) => {
        if (error) return callback(error, []);
        const hostOptedIn = isAllowedHost(hostname, optIn.names);
        for (const { address } of addresses) {
          if (isPrivateAddress(address) && !hostOptedIn && !optIn.coversAddress(address)) {
            return callback(new PrivateAddressError(hostname, address), []);
          }
        }
        const first = addresses[0];
        if (options.all) return callback(null, addresses);
        if (!first) return callback(Object.assign(new Error(`No address for ${hostname}`)), []);
        callback(null, first.address, first.family);
      },
    );
  };
}

/**
 * Requests `url`, following redirects by hand, and returns the final response (any status that is
 * not a redirect). Throws `InputRefusedError` for a hop that is not allowed (host, scheme, private
 * address, too many redirects) and `TransientError` for network failures and timeouts. The
 * caller must consume or destroy the response.
 */
export async function safeFetch(
  request: SafeFetchRequest,
  policy: SafeFetchPolicy,
): Promise<{ response: IncomingMessage; url: URL }> {
  const optIn = new PrivateOptIn(policy.allowPrivate);
  const lookup = checkedLookup(optIn);
  const firstOrigin = new URL(request.url).origin;
  let headers = request.headers;
  let current = new URL(request.url);
  let previous: URL | undefined;
  for (let hop = 0; ; hop++) {
    checkHop(current, previous, policy, optIn);
    if (current.origin !== firstOrigin) headers = {}; // like browsers: no credentials cross-origin
    const response = await send(current, headers, request.signal, lookup);
    const location = response.headers.location;
    if (!REDIRECTS.has(response.statusCode ?? 0) || !location) return { response, url: current };
    response.resume(); // discard the redirect's body
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new InputRefusedError(`${current.hostname} redirected to a malformed address`);
    }
    if (hop + 1 > policy.maxRedirects) {
      throw new InputRefusedError(
        `The attachment link redirected more than ${policy.maxRedirects} times ` +
          `(last from ${current.hostname} to ${next.hostname})`,
      );
    }
    previous = current;
    current = next;
  }
}

function checkHop(
  url: URL,
  previous: URL | undefined,
  policy: SafeFetchPolicy,
  optIn: PrivateOptIn,
): void {
  const host = bareHost(url);
  const refuse = (problem: string): never => {
    const lowered = problem.charAt(0).toLowerCase() + problem.slice(1);
    const text = previous ? `${bareHost(previous)} redirected to ${host}: ${lowered}` : problem;
    throw new InputRefusedError(text.charAt(0).toUpperCase() + text.slice(1));
  };
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    refuse(`attachments are fetched over https only, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (!isAllowedHost(host, policy.allowedHosts)) {
    refuse(`attachments are only fetched from ${policy.allowedHosts.join(', ')}, not ${host}`);
  }
  // Sockets skip the lookup for IP literals, so those are checked here.
  if (isIP(host) !== 0 && isPrivateAddress(host) && !optIn.coversHost(host)) {
    refuse(privateMessage(host, host));
  }
  if (url.protocol === 'http:' && !optIn.coversHost(host)) {
    refuse(`attachments are fetched over https only, not plain http (${host})`);
  }
}

/** The URL's host name without IPv6 brackets. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

function send(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  lookup: ReturnType<typeof checkedLookup>,
): Promise<IncomingMessage> {
  const requester = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = requester(
      url,
      // A fresh connection per request: a pooled socket might have been opened without this lookup.
      { method: 'GET', headers, signal, lookup: lookup as never, agent: false },
      resolve,
    );
    outgoing.on('error', (error) => {
      if (error instanceof PrivateAddressError) {
        reject(new InputRefusedError(error.message));
      } else {
        reject(
          new TransientError(`Fetching the attachment failed: ${error.message}`, { cause: error }),
        );
      }
    });
    outgoing.end();
  });
}

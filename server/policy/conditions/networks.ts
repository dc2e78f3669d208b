import ipaddr from 'ipaddr.js';
import type { Condition, ConditionCheck, RequestContext } from './condition.js';

/** A range as written in the policy, and parsed. */
export interface NetworkRange {
  readonly source: string;
  readonly range: [ipaddr.IPv4 | ipaddr.IPv6, number];
}

/** Parses a CIDR; the error says what is wrong with it. */
export function parseNetwork(source: string): NetworkRange | string {
  let range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  try {
    range = ipaddr.parseCIDR(source);
  } catch {
    return 'expected an address range in CIDR notation, e.g. 10.0.0.0/8 or 2001:db8::/32';
  }
  const network =
    range[0].kind() === 'ipv4'
      ? ipaddr.IPv4.networkAddressFromCIDR(source)
      : ipaddr.IPv6.networkAddressFromCIDR(source);
  // 10.1.0.0/8 is most likely a typo for 10.1.0.0/16: refused rather than read as 10.0.0.0/8.
  if (network.toString() !== range[0].toString())
    return `expected the range's first address, ${network.toString()}/${range[1]}, not an address inside it`;
  return { source, range };
}

/**
 * The requester's address is in one of the policy's ranges. The address is the one the service sees
 * (Fastify's request.ip): X-Forwarded-For counts only when it came through a proxy named in trustProxy,
 * so a client cannot claim an office address by sending the header itself. IPv4 addresses seen as
 * IPv6 (::ffff:10.1.2.3) are matched as IPv4.
 */
export class NetworksCondition implements Condition {
  readonly name = 'networks';

  constructor(private readonly ranges: readonly NetworkRange[]) {}

  check(context: RequestContext): ConditionCheck {
    const ranges = this.ranges.map((range) => range.source).join(', ');
    const address = context.clientAddress === null ? null : parseAddress(context.clientAddress);
    if (address === null) {
      return {
        name: this.name,
        met: false,
        message: `Your network address is unknown, so it cannot be checked against ${ranges}.`,
      };
    }
    const inside = this.ranges.find(
      ({ range }) => range[0].kind() === address.kind() && address.match(range),
    );
    return {
      name: this.name,
      met: inside !== undefined,
      message: inside
        ? `From ${address.toString()}, in ${inside.source}.`
        : `From ${address.toString()}, outside the allowed networks (${ranges}): connect from the office or the VPN.`,
    };
  }
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    return ipaddr.process(text);
  } catch {
    return null;
  }
}

/**
 * Which IP addresses a webhook may not reach by default: every range that leads into the
 * sender's own network or host (loopback, private, link-local, unique-local, cloud metadata,
 * carrier-grade NAT) or nowhere useful (unspecified, multicast, reserved, documentation).
 * Addresses that embed an IPv4 address (IPv4-mapped or -translated, NAT64, 6to4, IPv4-compatible) are judged by
 * the IPv4 address they lead to, so `::ffff:127.0.0.1` is loopback like `127.0.0.1`.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Why an address is refused; `null` from `classifyAddress` means public. */
export type NonPublicKind =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'metadata'
  | 'unique-local'
  | 'multicast'
  | 'reserved'
  | 'documentation'
  | 'invalid';

interface Range {
  prefix: number[];
  bits: number;
  kind: NonPublicKind;
}

function v4(text: string, bits: number, kind: NonPublicKind): Range {
  return { prefix: text.split('.').map(Number), bits, kind };
}

// Most specific first: the metadata address sits inside link-local and must win.
const IPV4_RANGES: readonly Range[] = [
  v4('169.254.169.254', 32, 'metadata'),
  v4('100.100.100.200', 32, 'metadata'),
  v4('0.0.0.0', 8, 'unspecified'),
  v4('10.0.0.0', 8, 'private'),
  v4('100.64.0.0', 10, 'shared'),
  v4('127.0.0.0', 8, 'loopback'),
  v4('169.254.0.0', 16, 'link-local'),
  v4('172.16.0.0', 12, 'private'),
  v4('192.0.0.0', 24, 'reserved'),
  v4('192.0.2.0', 24, 'documentation'),
  v4('192.88.99.0', 24, 'reserved'),
  v4('192.168.0.0', 16, 'private'),
  v4('198.18.0.0', 15, 'reserved'),
  v4('198.51.100.0', 24, 'documentation'),
  v4('203.0.113.0', 24, 'documentation'),
  v4('224.0.0.0', 4, 'multicast'),
  v4('240.0.0.0', 4, 'reserved'),
];

function v6(hex: number[], bits: number, kind: NonPublicKind): Range {
  return { prefix: hex, bits, kind };
}

// IPv6 prefixes as bytes. Ranges that embed IPv4 are handled before these (see classifyIPv6).
const IPV6_RANGES: readonly Range[] = [
  v6([0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54], 128, 'metadata'),
  v6([0x01, 0x00, 0, 0, 0, 0, 0, 0], 64, 'reserved'),
  v6([0x20, 0x01, 0x0d, 0xb8], 32, 'documentation'),
  v6([0x20, 0x01, 0x00, 0x00], 23, 'reserved'),
  v6([0xfc], 7, 'unique-local'),
  v6([0xfe, 0x80], 10, 'link-local'),
  v6([0xfe, 0xc0], 10, 'private'),
  v6([0xff], 8, 'multicast'),
];

function matches(bytes: readonly number[], range: Range): boolean {
  let remaining = range.bits;
  for (let i = 0; remaining > 0; i++, remaining -= 8) {
    const take = Math.min(8, remaining);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((range.prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

function classifyIPv4Bytes(bytes: readonly number[]): NonPublicKind | null {
  return IPV4_RANGES.find((range) => matches(bytes, range))?.kind ?? null;
}

/** The 16 bytes of an IPv6 address (validated by `isIPv6` first), zone id dropped. */
function ipv6Bytes(address: string): number[] {
  let text = address.split('%')[0]!;
  const groups: number[] = [];
  // A trailing dotted quad (::ffff:1.2.3.4) is two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const headGroups = parse(head);
  const tailGroups = tail === undefined ? [] : parse(tail);
  const zeros = 8 - headGroups.length - tailGroups.length;
  groups.push(...headGroups, ...new Array<number>(tail === undefined ? 0 : zeros).fill(0), ...tailGroups);
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

function classifyIPv6(address: string): NonPublicKind | null {
  const bytes = ipv6Bytes(address);
  const firstTen = bytes.slice(0, 10);
  const allZero = (values: readonly number[]) => values.every((value) => value === 0);
  if (allZero(bytes.slice(0, 15)) && bytes[15] === 0) return 'unspecified';
  if (allZero(bytes.slice(0, 15)) && bytes[15] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) forms.
  if (
    allZero(firstTen) &&
    ((bytes[10] === 0xff && bytes[11] === 0xff) || (bytes[10] === 0 && bytes[11] === 0))
  ) {
    return classifyIPv4Bytes(bytes.slice(12)) ?? (bytes[10] === 0 ? 'reserved' : null);
  }
  // IPv4-translated (::ffff:0:a.b.c.d, SIIT): as the mapped form.
  if (allZero(bytes.slice(0, 8)) && bytes[8] === 0xff && bytes[9] === 0xff && allZero(bytes.slice(10, 12))) {
    return classifyIPv4Bytes(bytes.slice(12));
  }
  // The local-use NAT64 prefix 64:ff9b:1::/48 leads into a network's own translator, which may
  // carry any prefix length (so no one place to read the IPv4 address from): refused whole.
  if (matches(bytes, v6([0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48, 'reserved'))) return 'reserved';
  // NAT64 well-known prefix 64:ff9b::/96 and 6to4 2002::/16 lead to the IPv4 address they carry.
  if (matches(bytes, v6([0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0], 96, 'reserved'))) {
    return classifyIPv4Bytes(bytes.slice(12));
  }
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return classifyIPv4Bytes(bytes.slice(2, 6));
  return IPV6_RANGES.find((range) => matches(bytes, range))?.kind ?? null;
}

/**
 * Classify an IP address (IPv4 or IPv6 text, an IPv6 zone id allowed): `null` when it is a
 * public unicast address a webhook may reach, else the kind of range that makes it refused.
 * Text that is not an IP address is `'invalid'`.
 */
export function classifyAddress(address: string): NonPublicKind | null {
  if (isIPv4(address)) return classifyIPv4Bytes(address.split('.').map(Number));
  if (isIPv6(address)) return classifyIPv6(address);
  return 'invalid';
}

import { invalidParams } from './wire-errors.js';

/*
 * The relay's resource URIs, `events://{group}` and `customer://{id}/context`, built and read
 * in one place.
 *
 * A group's URI keeps the `/` of a nested name and percent-encodes each part between them:
 * `events://alice`, `events://alice/v1-x`, `events://alice/50%25off`. Reading decodes the whole
 * URI, so every spelling of the same name names the same group; in particular the name encoded
 * whole (`events://alice%2Fv1-x`), which the relay once needed for nested groups, still works.
 */

/** `events://` and a non-empty first part; no query or fragment (the relay's own URIs encode `?` and `#`). */
const GROUP_URI = /^events:\/\/([^/?#]+(?:\/[^?#]*)?)$/;

/** The URI the relay publishes for a consumer group: what `resources/list` lists and the docs spell. */
export function groupUri(group: string): string {
  const [first, ...rest] = group.split('/');
  // A URL parser drops `.` and `..` path parts and needs a host: such a name is encoded whole.
  if (first === '' || rest.some((part) => part === '.' || part === '..')) return wholeGroupUri(group);
  return `events://${group.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * The spellings of a group's URI the relay has published: {@link groupUri}'s, and the name
 * encoded whole. Listeners are indexed by the URI they sent, so "does anyone listen to this
 * group" asks about each.
 */
export function groupUris(group: string): string[] {
  const published = groupUri(group);
  const whole = wholeGroupUri(group);
  return published === whole ? [published] : [published, whole];
}

function wholeGroupUri(group: string): string {
  return `events://${encodeURIComponent(group)}`;
}

/** The group an `events://` URI names, or undefined for any other URI; -32602 for malformed percent-encoding. */
export function groupOfUri(uri: string): string | undefined {
  const match = GROUP_URI.exec(uri);
  return match ? decodeUriPart(match[1]!) : undefined;
}

/** A percent-encoded part of a resource URI, decoded; malformed escapes are the client's error (-32602). */
export function decodeUriPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalidParams('the resource URI has malformed percent-encoding');
  }
}

/** The URI of what the relay knows about a customer. */
export function customerUri(customerId: string): string {
  return `customer://${encodeURIComponent(customerId)}/context`;
}

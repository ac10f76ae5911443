import { invalidParams } from './wire-errors.js';

/* The relay's resource URIs, `events://{group}` and `customer://{id}/context`, built and read in one place. */

const GROUP_URI = /^events:\/\/([^/?#]+(?:\/[^?#]+)?)$/;

export function groupUri(group: string): string {
  return `events://${group}`;
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

export function customerUri(customerId: string): string {
  return `customer://${encodeURIComponent(customerId)}/context`;
}

import { DpsError } from '../dpsErrors.js';

/** A DPS service connection string, parsed. `hostName` may carry a port (`127.0.0.1:8443`). */
export interface DpsConnectionString {
  hostName: string;
  sharedAccessKeyName: string;
  /** Base64, as the portal shows it. A secret: never log it. */
  sharedAccessKey: string;
}

const HOST = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;

/**
 * Parses `HostName=…;SharedAccessKeyName=…;SharedAccessKey=…` (any order, keys case-insensitive,
 * the key's own `=` padding kept). Throws DPS_CONNECTION_STRING_INVALID naming the missing or bad
 * field, never echoing the key.
 */
export function parseConnectionString(text: string): DpsConnectionString {
  const fields = new Map<string, string>();
  for (const part of text.trim().split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw invalid('a field is not of the form Name=value');
    fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  const hostName = fields.get('hostname');
  const sharedAccessKeyName = fields.get('sharedaccesskeyname');
  const sharedAccessKey = fields.get('sharedaccesskey');
  if (!hostName) throw invalid('HostName is missing');
  if (!HOST.test(hostName)) throw invalid('HostName is not a host name');
  if (!sharedAccessKeyName) throw invalid('SharedAccessKeyName is missing');
  if (!sharedAccessKey) throw invalid('SharedAccessKey is missing');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(sharedAccessKey) || sharedAccessKey.length % 4 !== 0) {
    throw invalid('SharedAccessKey is not base64');
  }
  return { hostName, sharedAccessKeyName, sharedAccessKey };
}

/** The inverse of parseConnectionString (for the emulator, which prints its own). */
export function formatConnectionString(cs: DpsConnectionString): string {
  return `HostName=${cs.hostName};SharedAccessKeyName=${cs.sharedAccessKeyName};SharedAccessKey=${cs.sharedAccessKey}`;
}

function invalid(detail: string): DpsError {
  return new DpsError('DPS_CONNECTION_STRING_INVALID', { detail });
}

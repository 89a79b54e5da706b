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
 * IoT Hub's host names, public and sovereign clouds (azure-devices.net, .cn, .us, .de). DPS's
 * own are azure-devices-provisioning.*, which this does not match; an IP literal, `localhost` or
 * any other host (the emulator, a test server) is left alone.
 */
const IOT_HUB_HOST = /\.azure-devices\.(?:net|cn|us|de)\.?$/i;

/**
 * Parses `HostName=…;SharedAccessKeyName=…;SharedAccessKey=…` (any order, keys case-insensitive,
 * the key's own `=` padding kept), inside one pair of matching quotes if it was pasted with them.
 * Throws DPS_CONNECTION_STRING_INVALID naming the missing or bad field, never echoing the key,
 * and DPS_CONNECTION_STRING_IOT_HUB for an IoT hub's connection string, which looks the same.
 */
export function parseConnectionString(text: string): DpsConnectionString {
  const fields = new Map<string, string>();
  for (const part of unquoted(text).split(';')) {
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
  if (IOT_HUB_HOST.test(hostName.replace(/:\d+$/, ''))) {
    throw new DpsError('DPS_CONNECTION_STRING_IOT_HUB', {
      detail: `HostName ${hostName} is an IoT hub's (policy ${sharedAccessKeyName ?? 'not given'})`,
    });
  }
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

/**
 * The text without surrounding whitespace and one pair of matching quotes around it: copied from
 * a shell line, a JSON file or the portal's tooltip, the string came with them, and `"HostName`
 * then read as "HostName is missing".
 */
function unquoted(text: string): string {
  const trimmed = text.trim();
  const quote = trimmed[0];
  if (trimmed.length >= 2 && (quote === '"' || quote === "'") && trimmed.endsWith(quote)) {
    return trimmed.slice(1, -1).trim();
  }
  return trimmed;
}

function invalid(detail: string): DpsError {
  return new DpsError('DPS_CONNECTION_STRING_INVALID', { detail });
}

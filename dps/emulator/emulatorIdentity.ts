import { randomBytes, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { EmulatorStore } from './emulatorStore.js';
import { createEmulatorTls, type EmulatorTlsMaterial } from './emulatorTls.js';

/**
 * What makes one emulator instance recognisable to its clients: the ID scope, the service
 * policy key behind the connection string, and the TLS certificate clients trust. All three are
 * kept in the store's settings, so a file-backed emulator restarted on the same port keeps its
 * connection string and CA. The key is a secret of this emulator: it is stored, never logged.
 */
export interface EmulatorIdentity {
  idScope: string;
  /** Base64 of 32 random bytes. */
  serviceKey: string;
  tls: EmulatorTlsMaterial;
}

/** Made-at-start TLS material is replaced when it has less than this left. */
const TLS_RENEW_BEFORE_MS = 30 * 86_400_000;

export async function loadEmulatorIdentity(
  store: EmulatorStore,
  options: { serviceName: string; host: string; idScope?: string; tls?: EmulatorTlsMaterial },
): Promise<EmulatorIdentity> {
  const idScope = options.idScope ?? store.getSetting('idScope') ?? randomIdScope();
  store.setSetting('idScope', idScope);
  let serviceKey = store.getSetting('serviceKey');
  if (serviceKey === undefined) {
    serviceKey = randomBytes(32).toString('base64');
    store.setSetting('serviceKey', serviceKey);
  }
  const tls = options.tls ?? (await storedOrFreshTls(store, options.serviceName, options.host));
  return { idScope, serviceKey, tls };
}

/** A fresh ID scope shaped like DPS's (`0ne` + 8 upper-case hex digits). */
export function randomIdScope(): string {
  return `0ne${randomBytes(4).toString('hex').toUpperCase()}`;
}

async function storedOrFreshTls(
  store: EmulatorStore,
  serviceName: string,
  host: string,
): Promise<EmulatorTlsMaterial> {
  const stored = store.getSetting('tls');
  if (stored !== undefined) {
    try {
      const parsed = JSON.parse(stored) as EmulatorTlsMaterial & { serviceName: string };
      const certificate = new X509Certificate(parsed.certPem);
      const expires = Date.parse(certificate.validTo);
      // Restarted on another --host: clients reach it by that name, so the certificate must
      // carry it.
      const namesHost =
        (isIP(host) !== 0 ? certificate.checkIP(host) : certificate.checkHost(host)) !== undefined;
      if (
        parsed.serviceName === serviceName &&
        namesHost &&
        expires - Date.now() > TLS_RENEW_BEFORE_MS
      ) {
        return { certPem: parsed.certPem, keyPem: parsed.keyPem, caPem: parsed.caPem };
      }
    } catch {
      // Unreadable: make new material below.
    }
  }
  const fresh = await createEmulatorTls(serviceName, host);
  store.setSetting('tls', JSON.stringify({ ...fresh, serviceName }));
  return fresh;
}

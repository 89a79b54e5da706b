import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadEmulatorIdentity } from './emulatorIdentity.js';
import { EmulatorStore } from './emulatorStore.js';

/**
 * `station emulator --host H` hands out `HostName=H:port`, so the server certificate must name H,
 * or no client can use the connection string the emulator prints. (Checked on the certificate:
 * tests listen on 127.0.0.1 only.)
 */
const stores: EmulatorStore[] = [];
afterEach(() => stores.splice(0).forEach((store) => store.close()));

function memoryStore(): EmulatorStore {
  const store = EmulatorStore.open('memory');
  stores.push(store);
  return store;
}

const names = (certPem: string, host: string): boolean => {
  const certificate = new X509Certificate(certPem);
  return (
    (/^[\d.]+$/.test(host) ? certificate.checkIP(host) : certificate.checkHost(host)) !== undefined
  );
};

describe('loadEmulatorIdentity: the server certificate', () => {
  it('names the listen host, an IP address or a DNS name, besides the usual names', async () => {
    for (const host of ['10.20.30.40', 'trainer-pc.line.local']) {
      const { tls } = await loadEmulatorIdentity(memoryStore(), { serviceName: 'emu', host });
      expect(names(tls.certPem, host)).toBe(true);
      expect(names(tls.certPem, '127.0.0.1')).toBe(true);
      expect(names(tls.certPem, 'emu.azure-devices-provisioning.net')).toBe(true);
    }
  });

  it('is kept across restarts on the same host, and replaced for another host', async () => {
    const store = memoryStore();
    const first = await loadEmulatorIdentity(store, { serviceName: 'emu', host: '127.0.0.1' });
    const again = await loadEmulatorIdentity(store, { serviceName: 'emu', host: '127.0.0.1' });
    expect(again.tls).toEqual(first.tls);
    const moved = await loadEmulatorIdentity(store, { serviceName: 'emu', host: '10.20.30.40' });
    expect(names(moved.tls.certPem, '10.20.30.40')).toBe(true);
    expect(moved.serviceKey).toBe(first.serviceKey);
  });
});

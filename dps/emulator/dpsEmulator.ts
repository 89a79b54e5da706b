import { constants as cryptoConstants } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { formatConnectionString } from '../auth/connectionString.js';
import { parsePemBundle } from './certificateInfo.js';
import { DeviceRegistrations } from './deviceRoutes.js';
import { TpmIdentities } from './tpmIdentities.js';
import { loadEmulatorIdentity } from './emulatorIdentity.js';
import { EmulatorStore } from './emulatorStore.js';
import { FaultInjector } from './faultInjector.js';
import { FixedWindowRateLimiter } from './rateLimiter.js';
import { createRequestHandler, type PipelineCounters } from './requestPipeline.js';
import { serviceHostNames, type ServiceCredentials } from './serviceAuth.js';
import { serviceRoutes } from './serviceRoutes.js';

/**
 * The local DPS emulator: one HTTPS server serving both the service API (`/enrollments…`,
 * `/enrollmentGroups…`, `/registrations…`) and the device registration API
 * (`/{idScope}/registrations/{id}/register`, `…/operations/{op}`), following the real service's
 * contract (shared/reference/dps-protocol.md) closely enough for the official Azure SDKs.
 * See README.md beside this file for what it emulates and what it leaves out.
 */

/** Injected faults. Decisions come from a seeded PRNG; every API call is subject to them. */
export interface EmulatorFaults {
  /** Added to every response (and before every reset). */
  latencyMs?: number;
  /** 0..1: answer 500/503 with a DPS error body, WITHOUT applying the request. */
  serverErrorRate?: number;
  /** 0..1: destroy the socket; half of these AFTER applying the request (the client cannot know). */
  resetRate?: number;
  /** 0..1: answer 429 + Retry-After without applying. */
  throttleRate?: number;
  /** Deterministic fault sequence (default: a fixed seed); setFaults restarts the sequence. */
  seed?: number;
}

/** DPS rate limits (dps-protocol.md §3), one fixed window per kind. */
export interface EmulatorRateLimit {
  /** DPS default 1000 (service + registration calls all count). */
  operationsPerWindow: number;
  /** DPS default 60_000; benchmarks scale it down. */
  windowMs: number;
  /** Register calls per window; default = operationsPerWindow. */
  registrationsPerWindow?: number;
}

export interface DpsEmulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (ephemeral). */
  port?: number;
  /** Default '0ne' + 8 random hex digits (upper case); a file store keeps the one it made. */
  idScope?: string;
  /** Default 'line-station-emulator'. */
  serviceName?: string;
  /** Default 'memory'; a file is a better-sqlite3 database. */
  storage?: 'memory' | { file: string };
  /** Linked IoT hubs; default ['demo-hub-1.azure-devices.net','demo-hub-2.azure-devices.net']. */
  hubs?: string[];
  /** PEM CA certificates treated as uploaded+verified (X.509 groups and chains). */
  verifiedCas?: string[];
  /** Default { operationsPerWindow: 1000, windowMs: 60_000 }. */
  rateLimit?: EmulatorRateLimit | false;
  /** Default none. */
  faults?: EmulatorFaults;
  /** Default: a fresh emulator CA + server cert made at start (kept in a file store). */
  tls?: { certPem: string; keyPem: string; caPem: string };
  /** Operator lines, never secrets. */
  log?: (line: string) => void;
  /**
   * The emulator's clock: it judges service SAS expiry and fills the Date header (default
   * Date.now). Tests move it to let a token's life pass without waiting an hour.
   */
  nowMs?: () => number;
  /**
   * Refuse a service token whose `sr` carries the port, as real DPS does (its host name has none).
   * Default false: the Java and C# SDKs sign the HostName they were given, and only the
   * emulator's has a port.
   */
  refusePortInServiceToken?: boolean;
}

export interface EmulatorStats {
  /** HTTP requests received. */
  requests: number;
  /** Calls admitted by the rate limiter (faulted calls do not get that far). */
  operations: number;
  /** Every 429 answered: rate limit and injected throttles. */
  throttled429: number;
  injected: { serverErrors: number; resets: number; throttles: number };
  /** Individual enrollments held now. */
  enrollments: number;
  /** Times an individual enrollment went from absent to present. */
  enrollmentCreates: number;
  /** Creates of a registration ID that had been present before (deleted and re-created). */
  duplicateCreates: number;
  /** Device registration states held now. */
  registrations: number;
}

export interface DpsEmulator {
  readonly host: string;
  readonly port: number;
  /** `${host}:${port}`: service API host AND device global endpoint. */
  readonly hostName: string;
  readonly idScope: string;
  /** HostName=<hostName>;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=<base64>. */
  readonly serviceConnectionString: string;
  /** Trust anchor of the server certificate. */
  readonly caCertificatePem: string;
  setFaults(faults: EmulatorFaults): void;
  setRateLimit(limit: EmulatorRateLimit | false): void;
  stats(): EmulatorStats;
  /** Per registration ID (lower case): how many times it was created (absent -> present). */
  createCounts(): Map<string, number>;
  close(): Promise<void>;
}

export const DEFAULT_HUBS = ['demo-hub-1.azure-devices.net', 'demo-hub-2.azure-devices.net'];
export const DEFAULT_RATE_LIMIT: EmulatorRateLimit = {
  operationsPerWindow: 1000,
  windowMs: 60_000,
};
const POLICY_NAME = 'provisioningserviceowner';

export async function startDpsEmulator(options: DpsEmulatorOptions = {}): Promise<DpsEmulator> {
  const host = options.host ?? '127.0.0.1';
  const serviceName = options.serviceName ?? 'line-station-emulator';
  const log = options.log ?? (() => {});
  const linkedHubs = [...(options.hubs ?? DEFAULT_HUBS)];
  if (linkedHubs.length === 0) throw new RangeError('the emulator needs at least one linked hub');
  const verifiedCas = (options.verifiedCas ?? []).map((pem, i) => {
    const certificates = parsePemBundle(pem);
    if (certificates.length === 0)
      throw new RangeError(`verifiedCas[${i}] holds no PEM certificate`);
    return certificates;
  });
  const store = EmulatorStore.open(options.storage ?? 'memory');
  try {
    const identity = await loadEmulatorIdentity(store, {
      serviceName,
      host,
      ...(options.idScope !== undefined ? { idScope: options.idScope } : {}),
      ...(options.tls !== undefined ? { tls: options.tls } : {}),
    });
    const counters: PipelineCounters = {
      requests: 0,
      operations: 0,
      throttled429: 0,
      injected: { serverErrors: 0, resets: 0, throttles: 0 },
    };
    const faults = new FaultInjector(options.faults);
    const limiter = new FixedWindowRateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
    const devices = new DeviceRegistrations({
      store,
      idScope: identity.idScope,
      verifiedCas: verifiedCas.flat(),
      tpmIdentities: new TpmIdentities(store),
      linkedHubs,
      log,
    });
    // Filled once the server listens: the accepted host names include the port.
    const auth: { credentials?: ServiceCredentials } = {};
    const server = createServer(
      {
        cert: identity.tls.certPem,
        key: identity.tls.keyPem,
        requestCert: true,
        rejectUnauthorized: false,
        // No session resumption: a resumed TLS session carries no client certificate chain.
        secureOptions: cryptoConstants.SSL_OP_NO_TICKET,
      },
      createRequestHandler({
        routes: [...serviceRoutes({ store, linkedHubs }), ...devices.routes()],
        faults,
        limiter,
        credentials: () => auth.credentials!,
        nowMs: options.nowMs ?? Date.now,
        counters,
        log,
      }),
    );
    // A socket still in its TLS handshake is not an HTTP connection yet: closeAllConnections()
    // misses it and server.close() would wait out the 120 s handshake timeout. close() ends them.
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    const port = await listen(server, options.port ?? 0, host);
    auth.credentials = {
      policyName: POLICY_NAME,
      keyBase64: identity.serviceKey,
      hostNames: serviceHostNames(
        [host, 'localhost', '127.0.0.1', `${serviceName}.azure-devices-provisioning.net`],
        options.refusePortInServiceToken ? undefined : port,
      ),
    };
    const hostName = `${host}:${port}`;
    log(`DPS emulator listening on https://${hostName} (ID scope ${identity.idScope})`);
    let closing: Promise<void> | undefined;
    return {
      host,
      port,
      hostName,
      idScope: identity.idScope,
      serviceConnectionString: formatConnectionString({
        hostName,
        sharedAccessKeyName: POLICY_NAME,
        sharedAccessKey: identity.serviceKey,
      }),
      caCertificatePem: identity.tls.caPem,
      setFaults: (next) => faults.set(next),
      setRateLimit: (next) => limiter.set(next),
      stats: () => {
        const counts = [...store.createCounts().values()];
        return {
          ...counters,
          injected: { ...counters.injected },
          enrollments: store.count('enrollments'),
          enrollmentCreates: counts.reduce((sum, n) => sum + n, 0),
          duplicateCreates: counts.reduce((sum, n) => sum + Math.max(0, n - 1), 0),
          registrations: store.count('registrations'),
        };
      },
      createCounts: () => store.createCounts(),
      close: () => {
        closing ??= (async () => {
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
            for (const socket of sockets) socket.destroy();
          });
          await devices.settle();
          store.close();
          log('DPS emulator stopped');
        })();
        return closing;
      },
    };
  } catch (err) {
    store.close();
    throw err;
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

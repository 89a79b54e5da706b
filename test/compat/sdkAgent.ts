import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { formatConnectionString, parseConnectionString } from '../../dps/auth/connectionString.js';
import type { DpsEmulator } from '../../dps/emulator/dpsEmulator.js';
import type {
  AttestationMechanism,
  BulkEnrollmentOperation,
  BulkEnrollmentOperationResult,
  DeviceRegistrationState,
  EnrollmentGroup,
  IndividualEnrollment,
  QuerySpecification,
} from './sdkTypes.js';

/**
 * Aims the official, unmodified Azure IoT provisioning packages at a local DPS emulator, the way
 * a user's code would (dps-protocol.md §6): the SDKs are given real Azure host names, and only
 * the TCP connection is redirected to the emulator's loopback port.
 */

/** The emulator facts a client needs (a subset of DpsEmulator, so fakes are easy). */
export type EmulatorEndpoint = Pick<
  DpsEmulator,
  'host' | 'port' | 'idScope' | 'serviceConnectionString' | 'caCertificatePem'
>;

/** What every device SDK is given as `provisioningHost`: the real global endpoint. */
export const GLOBAL_DEVICE_ENDPOINT = 'global.azure-devices-provisioning.net';

/**
 * An https.Agent that connects every request to the emulator. `https.request` refuses a port in
 * the host name (ENOTFOUND), so the SDKs keep the Azure name (which still sets SNI and the name
 * the server certificate is checked against) and only the socket goes to host:port.
 */
export class LoopbackAgent extends Agent {
  constructor(
    private readonly target: { host: string; port: number },
    // The same options as Node 20's https.globalAgent, which the SDKs use when given no agent.
    options: AgentOptions = { keepAlive: true, scheduling: 'lifo', timeout: 5_000 },
  ) {
    super(options);
  }

  override createConnection(
    options: RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    // The agent has already set `servername` from the original host; keep it.
    const servername = options.servername ?? options.hostname ?? options.host ?? undefined;
    return super.createConnection(
      { ...options, host: this.target.host, port: this.target.port, servername },
      callback,
    );
  }
}

/**
 * The emulator's connection string with HostName replaced by `<serviceName>.azure-devices-
 * provisioning.net` (same policy and key): the SDK signs its SAS token for that name and the agent
 * carries the request to the emulator. `sharedAccessKey` swaps the key (to test refusals).
 */
export function azureStyleConnectionString(
  emulator: EmulatorEndpoint,
  serviceName: string,
  sharedAccessKey?: string,
): string {
  const parsed = parseConnectionString(emulator.serviceConnectionString);
  return formatConnectionString({
    ...parsed,
    hostName: `${serviceName}.azure-devices-provisioning.net`,
    sharedAccessKey: sharedAccessKey ?? parsed.sharedAccessKey,
  });
}

// ---- The SDK boundary: untyped CommonJS, given the minimal types these tests rely on. ----

/** `{responseBody, httpResponse}`: what the SDKs' Promise forms resolve with. */
export interface HttpResult<T> {
  responseBody: T;
  httpResponse: IncomingMessage;
}

type HttpCallback<T> = (err: Error | null, body?: T, response?: IncomingMessage) => void;

/** azure-iot-provisioning-service's Query. `next()` without a token re-reads page one. */
export interface SdkQuery<T> {
  hasMoreResults: boolean;
  continuationToken: string | null | undefined;
  next(continuationToken?: string): Promise<HttpResult<T[]>>;
  next(callback: HttpCallback<T[]>): void;
}

/** azure-iot-provisioning-service's ProvisioningServiceClient, as used here. */
export interface ProvisioningServiceClient {
  _restApiClient: { setOptions(options: SdkTransportOptions): void };
  createOrUpdateIndividualEnrollment(
    e: IndividualEnrollment,
  ): Promise<HttpResult<IndividualEnrollment>>;
  getIndividualEnrollment(id: string): Promise<HttpResult<IndividualEnrollment>>;
  deleteIndividualEnrollment(
    idOrEnrollment: string | IndividualEnrollment,
    etag?: string,
  ): Promise<void>;
  getIndividualEnrollmentAttestationMechanism(
    id: string,
  ): Promise<HttpResult<AttestationMechanism>>;
  createIndividualEnrollmentQuery(
    spec: QuerySpecification,
    pageSize?: number,
  ): SdkQuery<IndividualEnrollment>;
  /** Only the callback form: the Promise form never settles (dps-protocol.md §1.5). */
  runBulkEnrollmentOperation(
    operation: BulkEnrollmentOperation,
    callback: HttpCallback<BulkEnrollmentOperationResult>,
  ): void;
  createOrUpdateEnrollmentGroup(g: EnrollmentGroup): Promise<HttpResult<EnrollmentGroup>>;
  getEnrollmentGroup(id: string): Promise<HttpResult<EnrollmentGroup>>;
  deleteEnrollmentGroup(idOrGroup: string | EnrollmentGroup, etag?: string): Promise<void>;
  getEnrollmentGroupAttestationMechanism(id: string): Promise<HttpResult<AttestationMechanism>>;
  createEnrollmentGroupQuery(
    spec: QuerySpecification,
    pageSize?: number,
  ): SdkQuery<EnrollmentGroup>;
  createEnrollmentGroupDeviceRegistrationStateQuery(
    spec: QuerySpecification,
    enrollmentGroupId: string,
    pageSize?: number,
  ): SdkQuery<DeviceRegistrationState>;
  getDeviceRegistrationState(id: string): Promise<HttpResult<DeviceRegistrationState>>;
  deleteDeviceRegistrationState(
    idOrState: string | DeviceRegistrationState,
    etag?: string,
  ): Promise<void>;
}

/** The options azure-iot-http-base passes to every `https.request`. */
export interface SdkTransportOptions {
  ca: string;
  http: { agent: Agent };
}

/** A device registration client (X509Registration, SymmetricKeyRegistration). */
export interface RegistrationClient {
  /** Resolves with `registrationState` of the final `assigned` answer. */
  register(): Promise<DeviceRegistrationState>;
}

interface HttpBase {
  setOptions(options: SdkTransportOptions): void;
}

interface Sdk {
  ProvisioningServiceClient: { fromConnectionString(cs: string): ProvisioningServiceClient };
  ProvisioningDeviceClient: {
    create(host: string, idScope: string, transport: object, security: object): RegistrationClient;
  };
  HttpBase: new () => HttpBase;
  DeviceHttp: new (httpBase?: HttpBase) => object;
  X509Security: new (registrationId: string, cert: { cert: string; key: string }) => object;
  SymmetricKeySecurityClient: new (registrationId: string, symmetricKey: string) => object;
}

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any -- marked boundary: CommonJS without our types */
const sdk: Sdk = {
  ProvisioningServiceClient: (require('azure-iot-provisioning-service') as any)
    .ProvisioningServiceClient,
  ProvisioningDeviceClient: (require('azure-iot-provisioning-device') as any)
    .ProvisioningDeviceClient,
  HttpBase: (require('azure-iot-http-base') as any).Http,
  DeviceHttp: (require('azure-iot-provisioning-device-http') as any).Http,
  X509Security: (require('azure-iot-security-x509') as any).X509Security,
  SymmetricKeySecurityClient: (require('azure-iot-security-symmetric-key') as any)
    .SymmetricKeySecurityClient,
};
/* eslint-enable @typescript-eslint/no-explicit-any */
for (const [name, value] of Object.entries(sdk)) {
  if (typeof value !== 'function') throw new Error(`Azure SDK export ${name} is missing`);
}

// ---- Building clients aimed at an emulator. ----

/** A service client made from an Azure-style connection string, its sockets sent to `agent`. */
export function serviceClientFor(
  emulator: EmulatorEndpoint,
  agent: Agent,
  serviceName: string,
  sharedAccessKey?: string,
): ProvisioningServiceClient {
  const client = sdk.ProvisioningServiceClient.fromConnectionString(
    azureStyleConnectionString(emulator, serviceName, sharedAccessKey),
  );
  client._restApiClient.setOptions({ ca: emulator.caCertificatePem, http: { agent } });
  return client;
}

/** A fresh HTTP device transport (one per device: it keeps the device's credentials). */
function deviceTransport(emulator: EmulatorEndpoint, agent: Agent): object {
  const httpBase = new sdk.HttpBase();
  httpBase.setOptions({ ca: emulator.caCertificatePem, http: { agent } });
  return new sdk.DeviceHttp(httpBase);
}

/** A device that attests with an X.509 certificate; `certPem` may carry the chain after the leaf. */
export function x509DeviceClient(
  emulator: EmulatorEndpoint,
  agent: Agent,
  registrationId: string,
  credentials: { certPem: string; keyPem: string },
): RegistrationClient {
  const security = new sdk.X509Security(registrationId, {
    cert: credentials.certPem,
    key: credentials.keyPem,
  });
  return sdk.ProvisioningDeviceClient.create(
    GLOBAL_DEVICE_ENDPOINT,
    emulator.idScope,
    deviceTransport(emulator, agent),
    security,
  );
}

/** A device that attests with a symmetric key (its own, or one derived from a group key). */
export function symmetricKeyDeviceClient(
  emulator: EmulatorEndpoint,
  agent: Agent,
  registrationId: string,
  deviceKey: string,
): RegistrationClient {
  return sdk.ProvisioningDeviceClient.create(
    GLOBAL_DEVICE_ENDPOINT,
    emulator.idScope,
    deviceTransport(emulator, agent),
    new sdk.SymmetricKeySecurityClient(registrationId, deviceKey),
  );
}

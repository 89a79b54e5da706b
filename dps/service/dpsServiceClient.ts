import { randomUUID } from 'node:crypto';
import { Agent } from 'node:https';
import { parseConnectionString, type DpsConnectionString } from '../auth/connectionString.js';
import { DpsError, dpsErrorCodeForStatus } from '../dpsErrors.js';
import { describeClockOffset, expiredByServerClock, serverTimeMs } from '../http/clockSkew.js';
import { parseDpsEndpoint, trustAnchors, type DpsEndpoint } from '../http/dpsEndpoint.js';
import { dpsErrorFromResponse, isSuccess, jsonBody, withoutSecrets } from '../http/dpsResponse.js';
import { httpsExchange, type HttpsExchangeResponse } from '../http/httpsExchange.js';
import { ServiceSasCache } from './serviceSasCache.js';
import {
  arrayOf,
  isAttestationMechanism,
  isBulkResultBody,
  isEnrollmentGroup,
  isIndividualEnrollment,
  isRegistrationState,
} from './serviceResponses.js';
import {
  MAX_BULK_ITEMS,
  type AttestationMechanism,
  type BulkMode,
  type BulkResult,
  type DeviceRegistrationState,
  type DpsServiceApi,
  type EnrollmentGroup,
  type IndividualEnrollment,
  type QueryPage,
} from './serviceTypes.js';

/** How to reach one DPS instance's service API. */
export interface DpsServiceClientOptions {
  /** `HostName=…;SharedAccessKeyName=…;SharedAccessKey=…`, or already parsed. A secret. */
  connectionString: string | DpsConnectionString;
  /** An extra PEM trust anchor (the emulator's CA), added to Node's public roots. */
  ca?: string;
  /** Per request, connect to last byte. Default 30 000 ms. */
  timeoutMs?: number;
  /** Default '2021-10-01'. */
  apiVersion?: string;
  /** Keep-alive sockets to DPS. Default 8. */
  maxSockets?: number;
  /**
   * This station's clock (default Date.now). SAS tokens are signed by it until DPS's first
   * answer, then by DPS's clock as its Date header tells it (clockOffsetMs).
   */
  nowMs?: () => number;
}

/** Options of one query call (`x-ms-max-item-count`, `x-ms-continuation`). */
type QueryOptions = { pageSize?: number; continuationToken?: string };

interface ServiceCall {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Path without the query string, ids already encoded. */
  path: string;
  body?: unknown;
  ifMatch?: string | undefined;
  headers?: Record<string, string>;
  /** GETs of a record answer `undefined` for 404: absence is an answer, not an error. */
  notFoundIsAnswer?: boolean;
}

const USER_AGENT = 'line-station-dps-service/1';
/** As for DPS error messages: enough for any real errorStatus, not enough to flood the log. */
const MAX_ERROR_STATUS_CHARS = 300;

/**
 * The DPS service API over HTTPS (dps-protocol.md §1, §6). One method, one request: no retries
 * and no rate limiting here; the sync worker owns that policy and reads `retryable` and
 * `retryAfterMs` off the DpsError. Call `close()` to release the keep-alive sockets.
 */
export class DpsServiceClient implements DpsServiceApi {
  readonly #endpoint: DpsEndpoint;
  readonly #agent: Agent;
  readonly #sas: ServiceSasCache;
  readonly #sharedAccessKey: string;
  readonly #timeoutMs: number;
  readonly #apiVersion: string;
  readonly #nowMs: () => number;
  /** DPS's time at its latest answer, and when that was on the monotonic clock. */
  #dpsTime: { serverMs: number; at: number } | undefined;

  constructor(options: DpsServiceClientOptions) {
    const connection =
      typeof options.connectionString === 'string'
        ? parseConnectionString(options.connectionString)
        : options.connectionString;
    this.#endpoint = parseDpsEndpoint(connection.hostName);
    this.#nowMs = options.nowMs ?? Date.now;
    // DPS judges a token's expiry by its own clock: a station clock behind DPS's would otherwise
    // send tokens that DPS sees lapse early, and 401s that stop the sync for a person.
    this.#sas = new ServiceSasCache(connection, () => this.#nowMs() + (this.clockOffsetMs() ?? 0));
    this.#sharedAccessKey = connection.sharedAccessKey;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#apiVersion = options.apiVersion ?? '2021-10-01';
    const ca = trustAnchors(options.ca);
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: options.maxSockets ?? 8,
      ...(ca === undefined ? {} : { ca }),
    });
  }

  async createOrUpdateEnrollment(
    enrollment: IndividualEnrollment,
    ifMatch?: string,
  ): Promise<IndividualEnrollment> {
    const path = `/enrollments/${segment(enrollment.registrationId)}`;
    const response = await this.#call({ method: 'PUT', path, body: enrollment, ifMatch });
    return jsonBody(`PUT ${path}`, response, isIndividualEnrollment, 'an individual enrollment');
  }

  async getEnrollment(registrationId: string): Promise<IndividualEnrollment | undefined> {
    const path = `/enrollments/${segment(registrationId)}`;
    const response = await this.#call({ method: 'GET', path, notFoundIsAnswer: true });
    return response && jsonBody(`GET ${path}`, response, isIndividualEnrollment, 'an enrollment');
  }

  async deleteEnrollment(registrationId: string, ifMatch?: string): Promise<void> {
    await this.#call({
      method: 'DELETE',
      path: `/enrollments/${segment(registrationId)}`,
      ifMatch,
    });
  }

  async getEnrollmentAttestation(registrationId: string): Promise<AttestationMechanism> {
    const path = `/enrollments/${segment(registrationId)}/attestationmechanism`;
    const response = await this.#call({ method: 'POST', path });
    return jsonBody(`POST ${path}`, response, isAttestationMechanism, 'an attestation mechanism');
  }

  async bulkEnrollments(mode: BulkMode, enrollments: IndividualEnrollment[]): Promise<BulkResult> {
    if (enrollments.length > MAX_BULK_ITEMS) {
      // The caller must split its batches; sending would only earn a 400 from DPS.
      throw new RangeError(
        `a bulk operation takes at most ${MAX_BULK_ITEMS} enrollments, got ${enrollments.length}`,
      );
    }
    const path = '/enrollments';
    const response = await this.#call({ method: 'POST', path, body: { mode, enrollments } });
    const result = jsonBody(`POST ${path}`, response, isBulkResultBody, 'a bulk result');
    // errorStatus is server text that ends up in the outbox and the log: short and scrubbed.
    const errors = (result.errors ?? []).map((e) => ({
      registrationId: e.registrationId,
      errorCode: e.errorCode,
      errorStatus: withoutSecrets(
        typeof e.errorStatus === 'string' ? e.errorStatus : '',
        this.#secrets(),
      ).slice(0, MAX_ERROR_STATUS_CHARS),
    }));
    return { isSuccessful: result.isSuccessful, errors };
  }

  queryEnrollments(
    query: string,
    options?: QueryOptions,
  ): Promise<QueryPage<IndividualEnrollment>> {
    return this.#query('/enrollments/query', query, options, isIndividualEnrollment);
  }

  async createOrUpdateEnrollmentGroup(
    group: EnrollmentGroup,
    ifMatch?: string,
  ): Promise<EnrollmentGroup> {
    const path = `/enrollmentGroups/${segment(group.enrollmentGroupId)}`;
    const response = await this.#call({ method: 'PUT', path, body: group, ifMatch });
    return jsonBody(`PUT ${path}`, response, isEnrollmentGroup, 'an enrollment group');
  }

  async getEnrollmentGroup(enrollmentGroupId: string): Promise<EnrollmentGroup | undefined> {
    const path = `/enrollmentGroups/${segment(enrollmentGroupId)}`;
    const response = await this.#call({ method: 'GET', path, notFoundIsAnswer: true });
    return response && jsonBody(`GET ${path}`, response, isEnrollmentGroup, 'an enrollment group');
  }

  async getEnrollmentGroupAttestation(enrollmentGroupId: string): Promise<AttestationMechanism> {
    const path = `/enrollmentGroups/${segment(enrollmentGroupId)}/attestationmechanism`;
    const response = await this.#call({ method: 'POST', path });
    return jsonBody(`POST ${path}`, response, isAttestationMechanism, 'an attestation mechanism');
  }

  async deleteEnrollmentGroup(enrollmentGroupId: string, ifMatch?: string): Promise<void> {
    const path = `/enrollmentGroups/${segment(enrollmentGroupId)}`;
    await this.#call({ method: 'DELETE', path, ifMatch });
  }

  queryEnrollmentGroups(
    query: string,
    options?: QueryOptions,
  ): Promise<QueryPage<EnrollmentGroup>> {
    return this.#query('/enrollmentGroups/query', query, options, isEnrollmentGroup);
  }

  async getRegistrationState(registrationId: string): Promise<DeviceRegistrationState | undefined> {
    const path = `/registrations/${segment(registrationId)}`;
    const response = await this.#call({ method: 'GET', path, notFoundIsAnswer: true });
    return response && jsonBody(`GET ${path}`, response, isRegistrationState, 'a registration');
  }

  async deleteRegistrationState(registrationId: string, ifMatch?: string): Promise<void> {
    const path = `/registrations/${segment(registrationId)}`;
    await this.#call({ method: 'DELETE', path, ifMatch });
  }

  /** Closes the keep-alive sockets. Requests in flight fail with DPS_UNREACHABLE. */
  close(): void {
    this.#agent.destroy();
  }

  async #query<T>(
    path: string,
    query: string,
    options: QueryOptions | undefined,
    item: (value: unknown) => value is T,
  ): Promise<QueryPage<T>> {
    const headers: Record<string, string> = {};
    if (options?.pageSize !== undefined) {
      if (!Number.isSafeInteger(options.pageSize) || options.pageSize < 1) {
        throw new RangeError(`pageSize must be a positive integer, got ${options.pageSize}`);
      }
      headers['x-ms-max-item-count'] = String(options.pageSize);
    }
    if (options?.continuationToken) headers['x-ms-continuation'] = options.continuationToken;
    const response = await this.#call({ method: 'POST', path, body: { query }, headers });
    const items = jsonBody(`POST ${path}`, response, arrayOf(item), 'a list of records');
    // DPS sends a continuation only when more pages exist (§1.6); an empty one means none.
    const next = response.headers['x-ms-continuation'];
    const continuationToken = Array.isArray(next) ? next[0] : next;
    return continuationToken ? { items, continuationToken } : { items };
  }

  #call(call: ServiceCall & { notFoundIsAnswer: true }): Promise<HttpsExchangeResponse | undefined>;
  #call(call: ServiceCall): Promise<HttpsExchangeResponse>;
  async #call(call: ServiceCall): Promise<HttpsExchangeResponse | undefined> {
    // Signed before DPS's time was known: a clock an hour or more behind gets the first token
    // refused, and that very answer's Date header tells DPS's time. One call again, signed by
    // it, instead of a "set the clock" alarm for a sync that works from then on.
    const blind = this.#dpsTime === undefined;
    try {
      return await this.#send(call);
    } catch (err) {
      if (!blind || !(err instanceof DpsError) || err.code !== 'DPS_CLOCK_WRONG') throw err;
      return this.#send(call);
    }
  }

  async #send(call: ServiceCall): Promise<HttpsExchangeResponse | undefined> {
    const authorization = this.#sas.token();
    // This request's token: a concurrent call may renew the cache before this one is answered.
    const tokenExpiresAtMs = this.#sas.expiresAtMs;
    const headers: Record<string, string> = {
      authorization,
      'request-id': randomUUID(),
      'user-agent': USER_AGENT,
      ...call.headers,
    };
    let body: Buffer | undefined;
    if (call.body !== undefined) {
      body = Buffer.from(JSON.stringify(call.body), 'utf8');
      headers['accept'] = 'application/json';
      headers['content-type'] = 'application/json; charset=utf-8';
      headers['content-length'] = String(body.length);
    } else if (call.method === 'GET') {
      headers['accept'] = 'application/json';
    } else if (call.method === 'POST') {
      headers['content-length'] = '0';
    }
    // Sent exactly as given: DPS etags are opaque and the Node and Java SDKs send them unquoted.
    if (call.ifMatch !== undefined) headers['if-match'] = call.ifMatch;

    const response = await httpsExchange({
      agent: this.#agent,
      endpoint: this.#endpoint,
      method: call.method,
      path: `${call.path}?api-version=${encodeURIComponent(this.#apiVersion)}`,
      headers,
      ...(body === undefined ? {} : { body }),
      timeoutMs: this.#timeoutMs,
    });
    const server = serverTimeMs(response.headers);
    if (server !== undefined) this.#dpsTime = { serverMs: server, at: performance.now() };
    if (isSuccess(response.status)) return response;
    if (call.notFoundIsAnswer && response.status === 404) return undefined;
    const error = dpsErrorFromResponse(
      dpsErrorCodeForStatus(response.status),
      `${call.method} ${call.path}`,
      response,
      this.#secrets(),
    );
    throw response.status === 401
      ? this.#clockOrCredentials(error, response, tokenExpiresAtMs)
      : error;
  }

  /**
   * DPS's clock minus this station's, from the Date header of DPS's latest answer (whole
   * seconds, plus the answer's time on the way); undefined before any answer carried one.
   */
  clockOffsetMs(): number | undefined {
    if (!this.#dpsTime) return undefined;
    // DPS's time now, carried forward on the monotonic clock, against the station's clock now:
    // a supervisor who sets the clock sees the difference go at once, not at DPS's next answer.
    const { serverMs, at } = this.#dpsTime;
    return serverMs + (performance.now() - at) - this.#nowMs();
  }

  /** A 401 for a token DPS's own clock had already expired is the station clock's fault. */
  #clockOrCredentials(
    error: DpsError,
    response: HttpsExchangeResponse,
    tokenExpiresAtMs: number,
  ): DpsError {
    const server = serverTimeMs(response.headers);
    if (server === undefined || !expiredByServerClock(tokenExpiresAtMs, server)) return error;
    const station = this.#nowMs();
    return new DpsError('DPS_CLOCK_WRONG', {
      status: error.status,
      dpsErrorCode: error.dpsErrorCode,
      trackingId: error.trackingId,
      detail: `${error.detail ?? ''}; the station's clock (${new Date(station).toISOString()}) is ${describeClockOffset(station, server)} DPS's (${new Date(server).toISOString()})`,
    });
  }

  /** What must never appear in text the client passes on. */
  #secrets(): string[] {
    return [this.#sas.current ?? '', this.#sharedAccessKey];
  }
}

/** One path segment: ids may hold `/`, `#`, `?` or spaces that must not reshape the URL. */
function segment(id: string): string {
  return encodeURIComponent(id);
}

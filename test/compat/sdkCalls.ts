import type { BulkEnrollmentOperation, BulkEnrollmentOperationResult } from './sdkTypes.js';
import type { HttpResult, ProvisioningServiceClient, SdkQuery } from './sdkAgent.js';

/**
 * Calling the official service SDK the way a user must, around its quirks (dps-protocol.md §1.5,
 * §1.6), and reading the errors it raises.
 */

/** runBulkEnrollmentOperation through its callback form, as a Promise. */
export function runBulk(
  client: ProvisioningServiceClient,
  operation: BulkEnrollmentOperation,
): Promise<HttpResult<BulkEnrollmentOperationResult>> {
  return new Promise((resolve, reject) => {
    client.runBulkEnrollmentOperation(operation, (err, body, response) => {
      if (err) reject(err);
      else if (body === undefined || response === undefined) reject(new Error('bulk: no result'));
      else resolve({ responseBody: body, httpResponse: response });
    });
  });
}

/** Every page of a query, passing the continuation token explicitly; at most `maxPages`. */
export async function queryPages<T>(query: SdkQuery<T>, maxPages = 50): Promise<HttpResult<T[]>[]> {
  const pages: HttpResult<T[]>[] = [];
  while (pages.length === 0 || query.hasMoreResults) {
    if (pages.length === maxPages) throw new Error(`query still had more after ${maxPages} pages`);
    pages.push(await query.next(query.continuationToken ?? undefined));
  }
  return pages;
}

/** An error as the SDKs raise it: the HTTP response and its raw body ride along. */
export interface SdkError extends Error {
  response?: { statusCode?: number; headers?: Record<string, unknown> };
  responseBody?: string;
}

/** The rejection of `promise`; fails if it resolved instead. */
export async function rejectionOf(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (err) {
    return err as SdkError;
  }
  throw new Error('expected the SDK call to fail, but it succeeded');
}

/** DPS's six-digit `errorCode` from an SDK error's body (undefined if the body is not JSON). */
export function dpsErrorCodeOf(err: SdkError): number | undefined {
  try {
    const body = JSON.parse(err.responseBody ?? '') as { errorCode?: unknown };
    return typeof body.errorCode === 'number' ? body.errorCode : undefined;
  } catch {
    return undefined;
  }
}

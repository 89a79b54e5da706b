import type { EmulatorStore, RecordTable, StoredRow } from './emulatorStore.js';
import { badRequest, ErrorCodes } from './errorBodies.js';
import { type EmulatorRequest, type EmulatorResponse, header, jsonBody } from './httpJson.js';

/**
 * The query routes (dps-protocol.md §1.6). Every record matches: DPS's SQL-like filter is not
 * emulated. Pages follow id order; the continuation token is opaque to clients and names the last
 * id returned, so records added or removed between pages neither repeat nor shift the rest.
 * `x-ms-continuation` is present only when another page exists; `x-ms-item-type` always.
 */

/** Page size when the client sends no `x-ms-max-item-count`. */
export const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

/** What DPS names the item types (Java requires the header). */
export type QueryItemType = 'Enrollment' | 'EnrollmentGroup' | 'DeviceRegistration';

export function queryPage<T>(
  store: EmulatorStore,
  table: RecordTable,
  request: EmulatorRequest,
  itemType: QueryItemType,
  options: { groupId?: string; view?: (row: StoredRow<T>) => unknown } = {},
): EmulatorResponse {
  const body = jsonBody(request);
  if (body !== undefined) {
    const query =
      typeof body === 'object' && body !== null
        ? (body as Record<string, unknown>).query
        : undefined;
    if (typeof query !== 'string') throw badRequest('The query body must be {"query": "…"}.');
  }
  const pageSize = parsePageSize(header(request, 'x-ms-max-item-count'));
  const after = parseContinuation(header(request, 'x-ms-continuation'));
  const rows = store.page<T>(table, after, pageSize + 1, options.groupId);
  const page = rows.slice(0, pageSize);
  const headers: Record<string, string> = {
    'x-ms-item-type': itemType,
    'x-ms-max-item-count': String(pageSize),
  };
  const last = page[page.length - 1];
  if (rows.length > pageSize && last !== undefined) {
    headers['x-ms-continuation'] = continuationFor(last.id);
  }
  const view = options.view ?? ((row: StoredRow<T>) => row.record);
  return { status: 200, headers, body: page.map(view) };
}

function parsePageSize(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_PAGE_SIZE;
  const size = Number(text);
  if (!Number.isInteger(size) || size < 1) {
    throw badRequest('x-ms-max-item-count must be a positive whole number.', ErrorCodes.badRequest);
  }
  return Math.min(size, MAX_PAGE_SIZE);
}

function continuationFor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId }), 'utf8').toString('base64url');
}

function parseContinuation(token: string | undefined): string | undefined {
  if (token === undefined || token.trim() === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token.trim(), 'base64url').toString('utf8')) as unknown;
    const after = (parsed as { after?: unknown }).after;
    if (typeof after === 'string') return after;
  } catch {
    // Falls through to the 400 below.
  }
  throw badRequest(
    'x-ms-continuation is not a token this service issued.',
    ErrorCodes.invalidContinuation,
  );
}

import type { EmulatorRequest, EmulatorResponse } from './httpJson.js';

/**
 * Routes of the one HTTPS server. Literal segments match case-insensitively (the Node SDK sends
 * `/enrollmentgroups/…` for one call and `/enrollmentGroups/…` for the others); `{name}` segments
 * capture the decoded value.
 */

/** How a route counts and authenticates: service calls use SAS; device calls attest themselves. */
export type RouteKind = 'service' | 'device' | 'register';

export interface Route {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  pattern: readonly string[];
  kind: RouteKind;
  handle(
    request: EmulatorRequest,
    params: Record<string, string>,
  ): EmulatorResponse | Promise<EmulatorResponse>;
}

export type RouteMatch =
  | { route: Route; params: Record<string, string> }
  | { route?: undefined; allowedMethods: string[] };

/** The route for a method and path; when none, the methods the path does allow (maybe none). */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  segments: readonly string[],
): RouteMatch {
  const allowedMethods: string[] = [];
  for (const route of routes) {
    const params = matchPattern(route.pattern, segments);
    if (params === undefined) continue;
    if (route.method === method.toUpperCase()) return { route, params };
    allowedMethods.push(route.method);
  }
  return { allowedMethods };
}

function matchPattern(
  pattern: readonly string[],
  segments: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i += 1) {
    const part = pattern[i]!;
    const segment = segments[i]!;
    if (part.startsWith('{')) {
      if (segment === '') return undefined;
      params[part.slice(1, -1)] = segment;
    } else if (part.toLowerCase() !== segment.toLowerCase()) {
      return undefined;
    }
  }
  return params;
}

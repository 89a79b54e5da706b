import type { DpsServiceApi } from '../../dps/service/serviceTypes.js';
import type { CallEnded } from './slidingWindowLimiter.js';

/**
 * The DPS service API with a gate in front of every method: each one is one DPS operation, and
 * DPS counts them all against the same rate (bulk, GET, PUT, attestation reads alike). The gate
 * resolves when the call may start (the worker's sliding-window limiter) with the function that
 * reports the call's end, or rejects to cancel it (pause, stop); a cancelled call is never sent.
 */
export function rateLimitedDps(dps: DpsServiceApi, gate: () => Promise<CallEnded>): DpsServiceApi {
  const gated =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const ended = await gate();
      try {
        return await call.apply(dps, args);
      } finally {
        ended();
      }
    };
  return {
    createOrUpdateEnrollment: gated(dps.createOrUpdateEnrollment),
    getEnrollment: gated(dps.getEnrollment),
    deleteEnrollment: gated(dps.deleteEnrollment),
    getEnrollmentAttestation: gated(dps.getEnrollmentAttestation),
    bulkEnrollments: gated(dps.bulkEnrollments),
    queryEnrollments: gated(dps.queryEnrollments),
    createOrUpdateEnrollmentGroup: gated(dps.createOrUpdateEnrollmentGroup),
    getEnrollmentGroup: gated(dps.getEnrollmentGroup),
    getEnrollmentGroupAttestation: gated(dps.getEnrollmentGroupAttestation),
    deleteEnrollmentGroup: gated(dps.deleteEnrollmentGroup),
    queryEnrollmentGroups: gated(dps.queryEnrollmentGroups),
    getRegistrationState: gated(dps.getRegistrationState),
    deleteRegistrationState: gated(dps.deleteRegistrationState),
  };
}

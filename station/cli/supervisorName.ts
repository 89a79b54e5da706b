import { userInfo } from 'node:os';
import type { AuditActor } from '../store/auditLog.js';
import { UsageError } from './usageError.js';

/**
 * Who a supervisor's command acts as: `--by NAME`, else this operating-system user's name, so a
 * script written before a command took --by goes on working and the trail still names someone.
 * At most 256 characters (a bundle's receipt carries the name): refused before anything is done.
 */
export function supervisorName(by: string | undefined): string {
  if (by !== undefined && by.trim() === '') throw new UsageError('--by is empty: give a name');
  if (by !== undefined && by.length > 256) {
    throw new UsageError('--by is longer than 256 characters');
  }
  return by ?? userInfo().username;
}

/** The audit trail's actor for a supervisor's command (`supervisor:NAME`). */
export function supervisorActor(by: string | undefined): AuditActor {
  return `supervisor:${supervisorName(by)}`;
}

import type Database from 'better-sqlite3';
import { migration001Certificates } from './001_certificates.js';
import { migration002Provisioning } from './002_provisioning.js';
import { migration003Sync } from './003_sync.js';
import { migration004OutboxCounts } from './004_outbox_counts.js';
import { migration005LiveEnrollmentsByDevice } from './005_live_enrollments_by_device.js';
import { migration006SyncLease } from './006_sync_lease.js';
import { migration007SupersededByRegistrationId } from './007_superseded_by_registration_id.js';
import { migration008RunOwners } from './008_run_owners.js';
import { migration009HistoryByTime } from './009_history_by_time.js';
import { migration010RunStarts } from './010_run_starts.js';
import { migration011Bundles } from './011_bundles.js';
import { migration012AttestationEvidence } from './012_attestation_evidence.js';
import { migration013RunsByState } from './013_runs_by_state.js';
import { migration014RunDpsSettings } from './014_run_dps_settings.js';
import { migration015RunOperatorNames } from './015_run_operator_names.js';
import { migration016ReopenUnconfirmedGroupMembers } from './016_reopen_unconfirmed_group_members.js';
import { migration017SupersededRetirement } from './017_superseded_retirement.js';
import { migration018BundleRetirements } from './018_bundle_retirements.js';
import { migration019RetireUnderGroupMembers } from './019_retire_under_group_members.js';
import { migration020BundlesLost } from './020_bundles_lost.js';
import { migration021SyncLeaseProcess } from './021_sync_lease_process.js';
import { migration022RevocationDisables } from './022_revocation_disables.js';
import { migration023RunOwnerStart } from './023_run_owner_start.js';
import { migration024RunsByProfile } from './024_runs_by_profile.js';
import { migration025BundleDpsHost } from './025_bundle_dps_host.js';

/** One schema step. `up` runs inside a transaction together with the version bump. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

/** Every migration, in order. Versions are dense: migration N is the N-th entry. */
export const migrations: readonly Migration[] = [
  migration001Certificates,
  migration002Provisioning,
  migration003Sync,
  migration004OutboxCounts,
  migration005LiveEnrollmentsByDevice,
  migration006SyncLease,
  migration007SupersededByRegistrationId,
  migration008RunOwners,
  migration009HistoryByTime,
  migration010RunStarts,
  migration011Bundles,
  migration012AttestationEvidence,
  migration013RunsByState,
  migration014RunDpsSettings,
  migration015RunOperatorNames,
  migration016ReopenUnconfirmedGroupMembers,
  migration017SupersededRetirement,
  migration018BundleRetirements,
  migration019RetireUnderGroupMembers,
  migration020BundlesLost,
  migration021SyncLeaseProcess,
  migration022RevocationDisables,
  migration023RunOwnerStart,
  migration024RunsByProfile,
  migration025BundleDpsHost,
];

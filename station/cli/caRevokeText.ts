import type { RevokedEnrollment } from '../store/revokedEnrollment.js';
import { stationCommand } from './stationCommand.js';

/**
 * What `station ca revoke` tells the supervisor the station did, and did not do, about a
 * revoked certificate: the outbox keeps it out of DPS or disables it there (revokedEnrollment.ts),
 * but nothing outside DPS learns of it, and a device that registered already stays in its hub.
 */
export function revocationLines(
  row: RevokedEnrollment | undefined,
  registrationId: string,
  dataDir: string,
): string[] {
  const trail = `\`${stationCommand('audit --kind enrollment.revocation-disabled', dataDir)}\``;
  const byHand = `disable or delete the DPS individual enrollment "${registrationId}" (Azure portal: the DPS, Manage enrollments; or \`az iot dps enrollment update --enrollment-id ${registrationId} --provisioning-status disabled\`)`;
  const hub = `The station publishes no CRL and changes nothing in an IoT hub: if the device registered already, disable it in its hub.`;
  if (row === undefined) {
    return [
      'The station made no enrollment for this certificate (issued by hand, or its run failed), so it changed nothing in DPS.',
      `If the certificate was enrolled in DPS some other way, ${byHand}.`,
      hub,
    ];
  }
  const ofRow = `Its enrollment (outbox row ${row.id}) was ${row.status}`;
  switch (row.action) {
    case 'withheld':
      return [
        `${ofRow} and never sent: it is now withheld (failed, SYNC_CERTIFICATE_REVOKED), and the station never sends it to DPS.`,
      ];
    case 'withheld-disabling':
      return [
        `${ofRow}: it is now withheld (failed, SYNC_CERTIFICATE_REVOKED), and the station never sends it again.`,
        `It may be in DPS already (sent before, or carried in a bundle): the sync disables DPS's record of "${registrationId}" once DPS can be reached, if that record holds this certificate; ${trail} shows when. Across an air gap, the next \`station bundle export\` carries the disable to the machine that syncs it.`,
        hub,
      ];
    case 'disabling':
      return [
        `${ofRow}: the sync disables it in DPS once DPS can be reached, if DPS still holds this certificate for "${registrationId}"; ${trail} shows when. Until then the device can still register. Across an air gap, the next \`station bundle export\` carries the disable to the machine that syncs it.`,
        hub,
      ];
    case 'superseded':
      return [
        `${ofRow}: the device was provisioned again since. Should DPS still hold this certificate for "${registrationId}" (the later enrollment not synced yet, or under another ID), the sync disables it there (across an air gap, the next \`station bundle export\` carries the disable); ${trail} shows when. If the device should not register at all, revoke its later certificate too.`,
        hub,
      ];
  }
}

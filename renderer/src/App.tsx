/**
 * The station screen: header, connection banner, notes, the slots that need attention, slot grid
 * (or, on a line that waits for the CA passphrase, the form to unlock it), outbox counts and the
 * recent runs.
 */
import { useCallback, useMemo, useState } from 'react';
import { AttentionStrip } from './AttentionStrip.js';
import { CommandRefusals } from './CommandRefusals.js';
import { refusalText, withRefusal, withoutRefusal, type Refusal } from './refusalList.js';
import { ConnectionBanner } from './ConnectionBanner.js';
import { OutboxPanel } from './OutboxPanel.js';
import { RecentRuns } from './RecentRuns.js';
import { SlotCard } from './SlotCard.js';
import { StationHeader } from './StationHeader.js';
import { UnlockPanel } from './UnlockPanel.js';
import { pageOnWorkstation } from './stationPipe.js';
import { useStation } from './useStation.js';
import { useUnknownSince } from './unknownSince.js';

export function App() {
  const station = useStation();
  // Past the reconnect grace, or for good (a restart refused this page): no state shown holds.
  const unknownSince = useUnknownSince(station.connection);
  const [refusals, setRefusals] = useState<Refusal[]>([]);
  const { client, status } = station;
  // Not while the station does not answer: a command pressed then would run whenever it
  // recovers, seconds or minutes later, when the technician no longer expects it.
  const canCommand = client !== undefined && station.connection === 'connected';
  // A locked line has no line to switch yet: the station would only refuse (LINE_LOCKED).
  const locked = status?.awaitingPassphrase === true;

  /**
   * Runs a command; a refusal is shown in words, never swallowed. It is kept under `key` (the
   * command and its slot) until dismissed, refused again or taken: another command leaves it
   * alone.
   * Settles once the station answered either way, so a card can hold its button until then.
   */
  const run = useCallback(
    (key: string, what: string, action: () => Promise<unknown>, check?: string) =>
      action().then(
        // Taken at last: an earlier refusal of the same command no longer stands.
        () => setRefusals((list) => withoutRefusal(list, key)),
        (err: unknown) => {
          setRefusals((list) => withRefusal(list, { key, text: refusalText(what, err, check) }));
        },
      ),
    [],
  );
  // Stable while the connection lasts, so a slot event re-renders that slot's card alone.
  const slotCommands = useMemo(() => {
    const send = (command: 'provision' | 'cancel', word: string) => (slot: number) =>
      client
        ? run(
            `${command} ${slot}`,
            `${word} slot ${slot}`,
            () => client.call(command, { slot }),
            `slot ${slot}`,
          )
        : Promise.resolve();
    return { provision: send('provision', 'Provision'), cancel: send('cancel', 'Cancel') };
  }, [client, run]);
  const dismiss = useCallback(
    (key: string) => setRefusals((list) => withoutRefusal(list, key)),
    [],
  );

  return (
    <div className="station">
      <StationHeader
        status={status}
        canChangeMode={canCommand && !locked}
        unknownSince={unknownSince}
        onMode={(mode) =>
          client && void run('setMode', 'Change mode', () => client.call('setMode', { mode }))
        }
      />
      {/* Kept in view: with a full line the grid runs far below the fold, and a technician at
          its bottom must still see that the station is gone or that a command was refused. */}
      <div className="station-alerts">
        <ConnectionBanner connection={station.connection} />
        <CommandRefusals refusals={refusals} onDismiss={dismiss} />
      </div>
      {status && status.notes.length > 0 && (
        <ul className="notes" aria-label="Station notes">
          {status.notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
      <AttentionStrip slots={station.slots} unknownSince={unknownSince} />
      <main
        className={station.connection === 'connected' ? 'slot-grid' : 'slot-grid stale'}
        aria-label="Slots"
      >
        {station.slots.map((slot) => (
          <SlotCard
            key={slot.slot}
            slot={slot}
            mode={status?.mode ?? 'auto'}
            enabled={canCommand}
            unknownSince={unknownSince}
            onProvision={slotCommands.provision}
            onCancel={slotCommands.cancel}
          />
        ))}
        {locked ? (
          <UnlockPanel
            here={station.unlockHere && pageOnWorkstation()}
            enabled={canCommand}
            onUnlock={(passphrase) =>
              client
                ? client.call('unlock', { passphrase })
                : Promise.reject(new Error('Not connected to the station.'))
            }
          />
        ) : (
          station.connection === 'connected' &&
          station.slots.length === 0 && (
            <p className="empty-line">No ports yet. Plug a device in or configure a port.</p>
          )
        )}
      </main>
      <OutboxPanel
        outbox={station.outbox}
        sync={status?.sync}
        dataDirFlag={station.dataDirFlag}
        enabled={canCommand && !locked}
        stale={unknownSince !== undefined}
        // Keyed by action: a Sync now that went through does not answer a refused Pause sync,
        // whose refusal would otherwise go unread. Settles once answered, for the buttons' hold.
        onSync={(action) =>
          client
            ? run(
                `sync ${action}`,
                action === 'now' ? 'Sync now' : `${action === 'pause' ? 'Pause' : 'Resume'} sync`,
                () => client.call('sync', { action }),
              )
            : Promise.resolve()
        }
      />
      {/* A locked line has no runs to list yet; the list asks once it runs. A station that does
          not answer is not asked: the list stays, dimmed, and asks again when it answers. */}
      {status && !locked && (
        <RecentRuns client={canCommand ? client : undefined} slots={station.slots} />
      )}
    </div>
  );
}

/**
 * One slot (one port). State is shown as a word and a symbol as well as a colour, so it reads
 * the same to a colour-blind technician and on a washed-out screen.
 */
import { memo, useLayoutEffect, useRef, useState, type FocusEvent } from 'react';
import type { SlotViewPayload } from '../../station/api/contract.js';
import { clockTime } from './clockTime.js';
import { useDoubleClickHold } from './useDoubleClickHold.js';
import './SlotCard.css';

type SlotState = SlotViewPayload['state'];

/** Each state as a word and a symbol; the recent-runs list shows a run's result the same way. */
export const STATE_LABEL: Record<SlotState, { word: string; symbol: string }> = {
  pass: { word: 'PASS', symbol: '✓' },
  fail: { word: 'FAIL', symbol: '✕' },
  running: { word: 'RUNNING', symbol: '▶' },
  waiting: { word: 'WAITING', symbol: '…' },
  empty: { word: 'EMPTY', symbol: '—' },
  cancelled: { word: 'CANCELLED', symbol: '■' },
};

const STEP_LABEL: Record<NonNullable<SlotViewPayload['step']>, string> = {
  identify: 'Identify device',
  validate: 'Check against product',
  attest: 'Issue identity',
  configure: 'Write DPS settings',
  verify: 'Verify device',
  commit: 'Save record',
};

interface Props {
  slot: SlotViewPayload;
  mode: 'auto' | 'manual';
  /** False while disconnected: commands could not reach the station. */
  enabled: boolean;
  /**
   * Since when (ms) the station's word on this slot is unknown (useUnknownSince): the card then
   * says so instead of its last state, and offers no command a technician might act on.
   */
  unknownSince: number | undefined;
  /**
   * Send the command for slot number `slot`; settle once the station answered (either way). The
   * same function for every card, so one slot's event re-renders that card alone.
   */
  onProvision: (slot: number) => Promise<unknown>;
  onCancel: (slot: number) => Promise<unknown>;
}

/** Memoised: a slot event changes one slot's props, and only that card is drawn again. */
export const SlotCard = memo(function SlotCard({
  slot,
  mode,
  enabled,
  unknownSince,
  onProvision,
  onCancel,
}: Props) {
  if (unknownSince !== undefined) return <UnknownSlotCard slot={slot} since={unknownSince} />;
  const label = STATE_LABEL[slot.state];
  const percent = Math.round(slot.progress * 100);
  return (
    <article
      className={`slot-card state-${slot.state}`}
      data-testid="slot-card"
      data-slot={slot.slot}
      data-state={slot.state}
      aria-label={`Slot ${slot.slot}: ${label.word}`}
      // Focusable from the attention strip's buttons, but not a stop when tabbing through.
      tabIndex={-1}
    >
      <div className="slot-top">
        <h2 className="slot-number">Slot {slot.slot}</h2>
        <span className="slot-state" data-testid="slot-state">
          <span aria-hidden="true">{label.symbol}</span> {label.word}
        </span>
      </div>
      <p className="slot-port">{slot.port}</p>
      {slot.state === 'running' && (
        <div className="slot-progress">
          <span className="slot-step">{slot.step ? STEP_LABEL[slot.step] : 'Starting'}</span>
          <progress max={100} value={percent} aria-label={`Progress ${percent}%`} />
        </div>
      )}
      <dl className="slot-facts">
        {slot.registrationId && (
          <div>
            <dt>Registration ID</dt>
            <dd data-testid="slot-registration-id">{slot.registrationId}</dd>
          </div>
        )}
        {slot.registeredHub && (
          <div>
            <dt>Registered</dt>
            <dd data-testid="slot-registered-hub">{slot.registeredHub}</dd>
          </div>
        )}
        {slot.serialNumber && (
          <div>
            <dt>Serial</dt>
            <dd>{slot.serialNumber}</dd>
          </div>
        )}
      </dl>
      {/* Why the run failed, or why it (or the check of the device) was cancelled. */}
      {(slot.state === 'fail' || slot.state === 'cancelled') && slot.error && (
        <div className="slot-error" data-testid="slot-error">
          <p className="slot-error-message">{slot.error.message}</p>
          <p className="slot-error-code">{slot.error.code}</p>
        </div>
      )}
      <SlotActions
        slot={slot}
        mode={mode}
        enabled={enabled}
        onProvision={onProvision}
        onCancel={onCancel}
      />
    </article>
  );
});

/**
 * The card's commands. A retry after a failure is always offered; a fresh run on a waiting slot
 * only in manual mode (auto starts it). A PASS card offers the next device, in either mode: a
 * port that never goes away (a serial device server, a pogo-pin fixture) gives auto mode no
 * re-plug to start it by. Once the run's commit went to the device it can no longer be cancelled.
 */
function SlotActions({ slot, mode, enabled, onProvision, onCancel }: Omit<Props, 'unknownSince'>) {
  const { state } = slot;
  // The slot as it was when a command was pressed, until the station answers it. Its buttons
  // stay off meanwhile: a double-click would otherwise send the command twice, and the second
  // one's refusal (LINE_SLOT_BUSY) would show as an alert on a run that is fine. The slot's next
  // event (a new `slot` object) ends the wait too: the station has acted on it. The ref stops a
  // second click that comes before the disabled button is drawn.
  const [pressedAt, setPressedAt] = useState<SlotViewPayload>();
  const pressed = useRef<SlotViewPayload>(undefined);
  // Every button of the card stays off for a double-click's time after any press ("Provision
  // again" takes Cancel's place, Cancel Provision's).
  const { held, hold, isHeld } = useDoubleClickHold();
  const refocus = useFocusKeeper();
  const pending = pressedAt === slot;
  const send = (command: (slot: number) => Promise<unknown>) => () => {
    if (pressed.current === slot || isHeld()) return;
    hold();
    const at = slot;
    pressed.current = at;
    setPressedAt(at);
    // Only this press's wait ends here, not one pressed since on the slot's newer state.
    void command(at.slot).finally(() => {
      if (pressed.current === at) pressed.current = undefined;
      setPressedAt((current) => (current === at ? undefined : current));
    });
  };
  const off = !enabled || pending || held;
  const provision = (text: string, className = 'provision') => (
    <button type="button" className={className} disabled={off} onClick={send(onProvision)}>
      {text}
    </button>
  );
  return (
    <div
      className="slot-actions"
      ref={refocus.box}
      onFocus={refocus.onFocus}
      onBlur={refocus.onBlur}
    >
      {(state === 'fail' || state === 'cancelled') && provision('Provision again')}
      {state === 'waiting' && mode === 'manual' && provision('Provision')}
      {/* Secondary, so it is not taken for part of the PASS result nor pressed by mistake. */}
      {state === 'pass' && provision('Provision next', 'provision-next')}
      {state === 'running' &&
        (slot.step === 'commit' ? (
          <p className="slot-finishing">Finishing: cannot be cancelled now</p>
        ) : (
          <button type="button" className="cancel" disabled={off} onClick={send(onCancel)}>
            Cancel
          </button>
        ))}
    </div>
  );
}

/**
 * Keeps a keyboard technician's place on the card: a pressed button is replaced (Provision by
 * Cancel) or turned off, the browser then drops the focus to the page's body, and the next Tab
 * would start again at the top of a long grid. When the button that had the focus is gone or off
 * and the focus went nowhere else, the card (tabIndex -1) takes it.
 */
function useFocusKeeper() {
  const box = useRef<HTMLDivElement>(null);
  const focused = useRef<HTMLButtonElement>(undefined);
  const onFocus = (event: FocusEvent<HTMLDivElement>) => {
    if (event.target instanceof HTMLButtonElement) focused.current = event.target;
  };
  // A blur with the button still there and on is the technician's own move (Tab, a click on
  // the page): a later change of this card must not pull the focus back.
  const onBlur = (event: FocusEvent<HTMLDivElement>) => {
    const button = event.target;
    const stays = button.isConnected && !(button instanceof HTMLButtonElement && button.disabled);
    if (event.relatedTarget !== null || stays) focused.current = undefined;
  };
  // After every commit: that is when a button goes away or turns off.
  useLayoutEffect(() => {
    const button = focused.current;
    if (!button || (button.isConnected && !button.disabled)) return;
    const active = document.activeElement;
    // Focus the technician moved elsewhere stays where they put it.
    if (active !== null && active !== document.body && active !== button) {
      focused.current = undefined;
      return;
    }
    const card = box.current?.closest<HTMLElement>('[data-testid="slot-card"]');
    focused.current = undefined;
    card?.focus({ preventScroll: true });
  });
  return { box, onFocus, onBlur };
}

/**
 * A slot whose state is unknown: the last state the station gave is kept in small type (which
 * device to look at), with no step, no progress and no button, since any of them may be stale.
 */
function UnknownSlotCard({ slot, since }: { slot: SlotViewPayload; since: number }) {
  const last = STATE_LABEL[slot.state].word;
  const time = clockTime(new Date(since).toISOString(), new Date());
  return (
    <article
      className="slot-card state-unknown"
      data-testid="slot-card"
      data-slot={slot.slot}
      data-state={slot.state}
      data-unknown-since={time}
      aria-label={`Slot ${slot.slot}: state unknown since ${time} (last shown ${last})`}
    >
      <div className="slot-top">
        <h2 className="slot-number">Slot {slot.slot}</h2>
        <span className="slot-state" data-testid="slot-state">
          <span aria-hidden="true">?</span> UNKNOWN{' '}
          <span className="slot-state-since">since {time}</span>
        </span>
      </div>
      <p className="slot-port">{slot.port}</p>
      <p className="slot-last-shown">
        Last shown: {last}
        {slot.serialNumber && ` · serial ${slot.serialNumber}`}
      </p>
    </article>
  );
}

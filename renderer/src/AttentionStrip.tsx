/**
 * The slots that need a technician now, near the top of the page: on a full line a FAIL card
 * below the fold is easy to miss, and the header's "N failed" counts the day, not the slots
 * still failed. One button per slot, in slot order, takes the technician to its card.
 */
import type { SlotViewPayload } from '../../station/api/contract.js';
import './AttentionStrip.css';

interface Props {
  slots: readonly SlotViewPayload[];
  /**
   * Since when (ms) the station's word on the slots is unknown (useUnknownSince). The strip
   * then shows nothing: the cards say UNKNOWN, and a slot listed as failed may have been
   * retried or unplugged since.
   */
  unknownSince: number | undefined;
}

/**
 * The slots that need attention, in slot order: those in state 'fail', which includes a held
 * board (RUN_REPEATED_FAILURE, RUN_NO_ANSWER_REPEATED). A 'cancelled' slot is left out: a
 * cancel is the operator's own act (the card's Cancel, or of the check of a device), so someone
 * is at the slot already, and the device keeps its previous identity: nothing failed.
 */
function slotsNeedingAttention(slots: readonly SlotViewPayload[]): number[] {
  return slots
    .filter((slot) => slot.state === 'fail')
    .map((slot) => slot.slot)
    .sort((a, b) => a - b);
}

/** Scrolls slot `slot`'s card into view and moves keyboard focus to it. */
function goToSlot(slot: number): void {
  const card = document.querySelector<HTMLElement>(
    `[data-testid="slot-card"][data-slot="${slot}"]`,
  );
  if (!card) return;
  // Centred, so the sticky banners at the top of the page cannot cover it.
  card.scrollIntoView({ block: 'center' });
  card.focus({ preventScroll: true });
}

export function AttentionStrip({ slots, unknownSince }: Props) {
  if (unknownSince !== undefined) return null;
  const failing = slotsNeedingAttention(slots);
  if (failing.length === 0) return null;
  const count = failing.length === 1 ? '1 slot needs' : `${failing.length} slots need`;
  return (
    <section
      className="attention-strip"
      aria-label="Slots that need attention"
      data-testid="attention-strip"
    >
      <p className="attention-count">
        <span aria-hidden="true">✕</span> {count} attention:
      </p>
      <ul className="attention-slots">
        {failing.map((slot) => (
          <li key={slot}>
            <button type="button" onClick={() => goToSlot(slot)}>
              Slot {slot}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

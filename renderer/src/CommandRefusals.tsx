/**
 * The refused commands, each in its own alert with its own Dismiss: a refusal stays in view until
 * read, whatever is pressed meanwhile (the next command used to wipe it, unread).
 */
import type { Refusal } from './refusalList.js';

interface Props {
  refusals: readonly Refusal[];
  onDismiss: (key: string) => void;
}

export function CommandRefusals({ refusals, onDismiss }: Props) {
  return refusals.map((refusal) => (
    <div key={refusal.key} className="command-error" role="alert" data-command={refusal.key}>
      <p>{refusal.text}</p>
      <button type="button" onClick={() => onDismiss(refusal.key)}>
        Dismiss
      </button>
    </div>
  ));
}

/**
 * The line that waits for the CA passphrase: a supervisor types it here to start the line. The
 * passphrase is read from the field only when the form is sent, and never kept in React state,
 * so it lives no longer than the one call that carries it.
 */
import { useId, useRef, useState, type FormEvent } from 'react';
import { API_ERROR_CODES, commandArgsSchemas } from '../../station/api/contract.js';
import { StationApiError } from '../../station/api/stationClient.js';
import './UnlockPanel.css';

interface Refusal {
  message: string;
  code?: string;
}

interface Props {
  /**
   * True on the workstation itself (the window, or a browser on its loopback, and the station
   * agrees). Elsewhere there is no field: a passphrase typed there would cross the network.
   */
  here: boolean;
  /** False while disconnected: the passphrase could not reach the station. */
  enabled: boolean;
  /** Sends the passphrase; resolves once the line runs, rejects with the station's refusal. */
  onUnlock: (passphrase: string) => Promise<unknown>;
}

/**
 * What the panel says of a failed unlock. An answer that never came (a timeout, a connection
 * lost meanwhile) is no refusal: opening the line may take a while, and it may well start with
 * the passphrase sent, so the supervisor is told to wait for the screen rather than type again.
 */
export function unlockRefusal(err: unknown): Refusal {
  if (!(err instanceof StationApiError)) return { message: String(err) };
  if (err.code === API_ERROR_CODES.timeout || err.code === API_ERROR_CODES.disconnected) {
    return {
      message:
        'No answer from the station yet: the line may still be starting with this passphrase. Wait for the screen to change before typing it again.',
      code: err.code,
    };
  }
  return { message: err.message, code: err.code };
}

/** The longest passphrase the station takes (the contract's `unlock`); 1024 characters. */
export const MAX_PASSPHRASE_CHARS = commandArgsSchemas.unlock.shape.passphrase.maxLength ?? 1024;

/**
 * Why `passphrase` is not sent, in words, or undefined when it may go. Said here because the
 * station would refuse a longer one only as a malformed message (API_BAD_MESSAGE), which tells a
 * supervisor nothing; not cut to length by the field either, which would send another passphrase.
 */
export function passphraseProblem(passphrase: string): Refusal | undefined {
  if (passphrase.length <= MAX_PASSPHRASE_CHARS) return undefined;
  return {
    message: `This passphrase is ${passphrase.length} characters long; the station takes at most ${MAX_PASSPHRASE_CHARS}. Check that only the CA passphrase was pasted, and type it again.`,
  };
}

export function UnlockPanel({ here, enabled, onUnlock }: Props) {
  const field = useRef<HTMLInputElement>(null);
  // Whether the field holds anything, not what: enough to enable the button.
  const [filled, setFilled] = useState(false);
  const [pending, setPending] = useState(false);
  const [refusal, setRefusal] = useState<Refusal>();
  const titleId = useId();
  const fieldId = useId();

  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const input = field.current;
    if (!input || input.value === '' || pending || !enabled) return;
    const passphrase = input.value;
    const problem = passphraseProblem(passphrase);
    // Out of the page at once: a wrong one is typed again anyway, a right one is never needed again.
    input.value = '';
    setFilled(false);
    setRefusal(problem);
    if (problem) {
      input.focus();
      return;
    }
    setPending(true);
    onUnlock(passphrase).then(
      () => setPending(false),
      (err: unknown) => {
        setPending(false);
        setRefusal(unlockRefusal(err));
        // The supervisor types again without reaching for the mouse.
        field.current?.focus();
      },
    );
  };

  if (!here) {
    return (
      <section className="unlock-panel" aria-labelledby={titleId}>
        <h2 id={titleId}>Line locked: it waits for the CA passphrase</h2>
        <p>
          A supervisor unlocks it at the workstation itself, in its window or a browser there. It
          cannot be unlocked from this screen, so that the passphrase never crosses the network.
        </p>
      </section>
    );
  }

  return (
    <form className="unlock-panel" aria-labelledby={titleId} onSubmit={submit}>
      <h2 id={titleId}>Line locked: a supervisor must type the CA passphrase to start it</h2>
      <div className="unlock-row">
        <label htmlFor={fieldId}>CA passphrase</label>
        {/* Read-only, not disabled, while the station checks: the focus stays in the field. */}
        <input
          id={fieldId}
          ref={field}
          type="password"
          autoComplete="off"
          spellCheck={false}
          autoFocus
          readOnly={pending}
          disabled={!enabled}
          onInput={(event) => setFilled(event.currentTarget.value !== '')}
        />
        <button type="submit" disabled={!enabled || pending || !filled}>
          {pending ? 'Unlocking…' : 'Unlock'}
        </button>
      </div>
      {refusal && (
        <div className="unlock-error" role="alert">
          <p>{refusal.message}</p>
          {refusal.code && <p className="unlock-error-code">{refusal.code}</p>}
        </div>
      )}
    </form>
  );
}

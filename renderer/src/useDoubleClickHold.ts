import { useEffect, useRef, useState } from 'react';

/** How long buttons stay off after a press, or a swap under the pointer: a double-click's time. */
export const DOUBLE_CLICK_MS = 500;

/**
 * A hold on a group of buttons for a double-click's time. A local station answers the first
 * click within milliseconds and the button under the pointer can change (Cancel for Provision,
 * Pause for Resume); the second click of a double-click would then undo what the first asked
 * for. `held` disables the buttons (off, not ignored: it shows); `isHeld()` reads a ref, for a
 * second click that comes before the disabled buttons are drawn.
 */
export function useDoubleClickHold(): { held: boolean; hold: () => void; isHeld: () => boolean } {
  const [held, setHeld] = useState(false);
  const holding = useRef(false);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const hold = (): void => {
    clearTimeout(timer.current);
    holding.current = true;
    setHeld(true);
    timer.current = setTimeout(() => {
      holding.current = false;
      setHeld(false);
    }, DOUBLE_CLICK_MS);
  };
  return { held, hold, isHeld: () => holding.current };
}

/**
 * How late a 10 ms timer ran at most while it was on: how long the event loop was blocked (a
 * store call waiting for a lock inside SQLite blocks it for its whole busy_timeout).
 */
export function latenessProbe(): { stop(): number } {
  let worst = 0;
  let due = performance.now() + 10;
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - due);
    due = now + 10;
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      return worst;
    },
  };
}

/**
 * A `station queue` command that found nothing to act on. Coded like every error leaving the
 * station (`{ code, message }`); cli.ts prints it with its code and exits 1, so a script or a
 * supervisor cannot read a requeue that changed nothing as done.
 */
export type QueueErrorCode = 'QUEUE_REQUEUE_NO_MATCH';

export class QueueError extends Error {
  constructor(
    readonly code: QueueErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'QueueError';
  }
}

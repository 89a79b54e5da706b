/** Says plainly when the screen is not live, and what to do about it. */
import type { Connection } from './useStation.js';

const TEXT: Record<Exclude<Connection, 'connected'>, string> = {
  connecting: 'Connecting to the station…',
  reconnecting: 'Disconnected from the station — reconnecting',
  'reconnecting-long':
    'Disconnected from the station — still reconnecting. If the station was restarted, open ' +
    'the new link it printed (a station run as a service keeps it in the serve-url file of ' +
    'its data folder). If you cannot find it, ask a supervisor.',
  'not-answering':
    'The station is not answering: the slots below may be out of date. If this lasts more ' +
    'than a minute, ask a supervisor to restart the station.',
  'no-token':
    'This page was not opened from the station link. Open the link the station printed ' +
    '(it ends in ?token= and a code; a station run as a service keeps it in the serve-url ' +
    'file of its data folder).',
  'token-refused':
    'The station no longer accepts this page (it was restarted). Open the new link it ' +
    'printed, or its serve-url file when it runs as a service.',
};

export function ConnectionBanner({ connection }: { connection: Connection }) {
  if (connection === 'connected') return null;
  return (
    <div className={`connection-banner connection-${connection}`} role="alert">
      {TEXT[connection]}
    </div>
  );
}

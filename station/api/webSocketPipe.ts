/**
 * A station-side MessagePipe over one `ws` WebSocket. Slow clients are dropped rather than
 * buffered without bound: a UI that reconnects asks for a fresh snapshot anyway.
 */
import type { RawData, WebSocket } from 'ws';
import { CLOSE_CODES, type Disposer, type MessagePipe } from './contract.js';
import { encodeWireMessage } from './wireMessage.js';

/** Bytes a client may fall behind by before the station closes its connection. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export function webSocketPipe(socket: WebSocket): MessagePipe {
  return {
    send(data) {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        socket.close(CLOSE_CODES.tooSlow, 'The UI fell too far behind; reconnect.');
        return;
      }
      socket.send(typeof data === 'string' ? data : encodeWireMessage(data));
    },
    onMessage(listener): Disposer {
      // Text frames arrive as UTF-8 buffers; binary frames are handed on as they are and refused.
      // ws still reads frames while a socket closes (a slow client dropped, a flood cut off):
      // those are dropped here, so nothing more runs for a connection on its way out.
      const handler = (raw: RawData, isBinary: boolean): void => {
        if (socket.readyState !== socket.OPEN) return;
        listener(isBinary || !Buffer.isBuffer(raw) ? raw : raw.toString('utf8'));
      };
      socket.on('message', handler);
      return () => socket.off('message', handler);
    },
    onClose(listener): Disposer {
      socket.once('close', listener);
      return () => socket.off('close', listener);
    },
    close() {
      socket.close(1000, 'closed by the station');
    },
  };
}

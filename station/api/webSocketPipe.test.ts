import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { webSocketPipe } from './webSocketPipe.js';

describe('webSocketPipe', () => {
  it('hands on no message that arrives once the socket is closing', () => {
    const socket = Object.assign(new EventEmitter(), { readyState: 1, OPEN: 1 });
    const pipe = webSocketPipe(socket as unknown as WebSocket);
    const got: unknown[] = [];
    pipe.onMessage((data) => got.push(data));
    socket.emit('message', Buffer.from('{"id":1}'), false);
    socket.readyState = 2; // CLOSING: e.g. dropped as too slow, while ws still reads its frames
    socket.emit('message', Buffer.from('{"id":2}'), false);
    expect(got).toEqual(['{"id":1}']);
  });
});

import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { SlotViewPayload } from '../../station/api/contract.js';
import { AttentionStrip } from './AttentionStrip.js';

const slot = (
  n: number,
  state: SlotViewPayload['state'],
  error?: SlotViewPayload['error'],
): SlotViewPayload => ({
  slot: n,
  port: `/dev/ttyUSB${n}`,
  state,
  progress: 0,
  updatedAt: 0,
  ...(error && { error }),
});

const render = (slots: SlotViewPayload[], unknownSince?: number): string =>
  renderToStaticMarkup(<AttentionStrip slots={slots} unknownSince={unknownSince} />);

/** The strip's buttons, by their text. */
const buttons = (html: string) =>
  [...html.matchAll(/<button[^>]*>([^<]*)<\/button>/g)].map(([, text]) => text);

const HELD = { code: 'RUN_REPEATED_FAILURE', message: 'Held: failed 3 times in a row.' };
const NO_ANSWER = { code: 'RUN_NO_ANSWER_REPEATED', message: 'Held: no answer 3 times.' };
const CANCELLED = { code: 'RUN_CANCELLED', message: 'The run was cancelled.' };

describe('AttentionStrip', () => {
  it('shows nothing when no slot has failed, a cancelled one included', () => {
    const line = [
      slot(1, 'pass'),
      slot(2, 'running'),
      slot(3, 'waiting'),
      slot(4, 'empty'),
      slot(5, 'cancelled', CANCELLED),
    ];
    expect(render(line)).toBe('');
    expect(render([])).toBe('');
    // The same line once a slot fails: the strip is there, so the empty ones above mean hidden.
    expect(buttons(render([...line, slot(6, 'fail')]))).toEqual(['Slot 6']);
  });

  it('lists the failing slots, held boards included, in slot order', () => {
    const line = [
      slot(37, 'fail', HELD),
      slot(3, 'pass'),
      slot(12, 'fail', { code: 'DEVICE_KEY_MISMATCH', message: 'Wrong key.' }),
      slot(5, 'cancelled', CANCELLED),
      slot(64, 'fail', NO_ANSWER),
    ];
    const html = render(line);
    expect(html).toMatch(/^<section [^>]*aria-label="Slots that need attention"/);
    expect(html).toContain('3 slots need attention:');
    expect(buttons(html)).toEqual(['Slot 12', 'Slot 37', 'Slot 64']);
  });

  it('says "1 slot needs attention" for a single failing slot', () => {
    const html = render([slot(1, 'pass'), slot(9, 'fail')]);
    expect(html).toContain('1 slot needs attention:');
    expect(buttons(html)).toEqual(['Slot 9']);
  });

  it('shows nothing while the station’s word is unknown, however many slots last failed', () => {
    const line = [slot(12, 'fail'), slot(37, 'fail', HELD)];
    expect(buttons(render(line))).toEqual(['Slot 12', 'Slot 37']);
    expect(render(line, Date.now())).toBe('');
  });
});

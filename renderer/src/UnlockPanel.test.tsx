import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { API_ERROR_CODES } from '../../station/api/contract.js';
import { StationApiError } from '../../station/api/stationClient.js';
import {
  MAX_PASSPHRASE_CHARS,
  passphraseProblem,
  UnlockPanel,
  unlockRefusal,
} from './UnlockPanel.js';

const unlock = () => Promise.resolve(null);

describe('UnlockPanel', () => {
  it('offers a password field on the workstation', () => {
    const html = renderToStaticMarkup(<UnlockPanel here enabled onUnlock={unlock} />);
    expect(html).toContain('type="password"');
    expect(html).toContain('CA passphrase');
  });

  it('has no field at all on a screen elsewhere: only where to unlock the line', () => {
    const html = renderToStaticMarkup(<UnlockPanel here={false} enabled onUnlock={unlock} />);
    expect(html).not.toContain('<input');
    expect(html).not.toContain('<form');
    expect(html).toContain('at the workstation itself');
  });

  it('says an unanswered unlock may still start the line, not that it was refused', () => {
    for (const code of [API_ERROR_CODES.timeout, API_ERROR_CODES.disconnected]) {
      const said = unlockRefusal(new StationApiError({ code, message: 'no answer' }));
      expect(said.code).toBe(code);
      expect(said.message).toContain('may still be starting');
      expect(said.message).toContain('Wait for the screen to change');
    }
    const wrong = new StationApiError({
      code: 'CUSTODY_WRONG_PASSPHRASE',
      message: 'Wrong passphrase.',
    });
    expect(unlockRefusal(wrong)).toEqual({
      message: 'Wrong passphrase.',
      code: 'CUSTODY_WRONG_PASSPHRASE',
    });
  });

  // A longer paste went to the station, which refused it only as API_BAD_MESSAGE.
  it('says in words that a passphrase is longer than the station takes', () => {
    expect(MAX_PASSPHRASE_CHARS).toBe(1024);
    expect(passphraseProblem('x'.repeat(1024))).toBeUndefined();
    expect(passphraseProblem('x'.repeat(1025))?.message).toBe(
      'This passphrase is 1025 characters long; the station takes at most 1024. Check that only the CA passphrase was pasted, and type it again.',
    );
  });
});

import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { StationStatusPayload } from '../../station/api/contract.js';
import { StationHeader } from './StationHeader.js';

const SUBJECT = 'CN=Line Issuing CA';

/** The header's CA fact (its class and its text) for a CA in `ca`. */
function caFact(ca: Partial<StationStatusPayload['ca']>): { className: string; text: string } {
  const status: StationStatusPayload = {
    demo: false,
    profile: 'ls-100 (X.509, device key)',
    mode: 'auto',
    ca: { locked: false, subject: SUBJECT, daysLeft: 200, ...ca },
    notes: [],
  };
  const html = renderToStaticMarkup(
    <StationHeader
      status={status}
      canChangeMode
      onMode={() => undefined}
      unknownSince={undefined}
    />,
  );
  const match = /<dt>CA<\/dt><dd class="([^"]*)">([^<]*)<\/dd>/.exec(html);
  if (!match) throw new Error(`no CA fact in ${html}`);
  return { className: match[1] ?? '', text: match[2] ?? '' };
}

describe('StationHeader CA', () => {
  it('shows a CA with time left as ready, a warning only under 30 days', () => {
    expect(caFact({ daysLeft: 200 })).toEqual({
      className: 'ca',
      text: `CA ready · ${SUBJECT} · 200 days left`,
    });
    expect(caFact({ daysLeft: 1.5 })).toEqual({
      className: 'ca ca-warn',
      text: `CA ready · ${SUBJECT} · 1 day left`,
    });
  });

  it('says "less than a day left" on its last day, not "0 days left"', () => {
    expect(caFact({ daysLeft: 0 })).toEqual({
      className: 'ca ca-warn',
      text: `CA ready · ${SUBJECT} · less than a day left`,
    });
  });

  it('shows an expired CA as a warning, not as ready with negative days', () => {
    for (const daysLeft of [-1, -0.2, -45]) {
      expect(caFact({ daysLeft })).toEqual({
        className: 'ca ca-warn',
        text: 'CA expired: import a renewed CA',
      });
    }
  });

  it('says expired rather than locked for a locked CA that has expired', () => {
    expect(caFact({ locked: true, daysLeft: -3 }).text).toBe('CA expired: import a renewed CA');
    expect(caFact({ locked: true, daysLeft: 3 }).text).toBe('CA locked — unlock it to provision');
  });

  it('keeps an unused CA calm, expired or not', () => {
    expect(caFact({ unused: true, daysLeft: -3 })).toEqual({
      className: 'ca',
      text: 'CA not used: this profile gives devices symmetric keys',
    });
  });
});

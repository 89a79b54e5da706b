import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { UnlockPanel } from './UnlockPanel.js';

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
});

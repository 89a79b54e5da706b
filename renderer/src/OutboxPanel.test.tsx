import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { OutboxPanel } from './OutboxPanel.js';

const outbox = { pending: 3, syncing: 0, synced: 0, failed: 0, conflict: 0 };

describe('OutboxPanel', () => {
  it('on a line without a DPS connection, says the enrollments wait and how a bundle carries them', () => {
    const html = renderToStaticMarkup(
      <OutboxPanel outbox={outbox} sync={undefined} enabled onSync={() => undefined} />,
    );
    expect(html).toContain('data-state="none"');
    expect(html).toContain('enrollments wait here');
    expect(html).toContain('<code>station bundle export</code>');
    expect(html).not.toContain('Sync now');
  });
});

import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { SlotViewPayload } from '../../station/api/contract.js';
import { SlotCard } from './SlotCard.js';

const base: SlotViewPayload = {
  slot: 3,
  port: 'tcp://10.0.4.21:4001',
  state: 'waiting',
  progress: 0,
  updatedAt: 0,
};

function render(slot: Partial<SlotViewPayload>, mode: 'auto' | 'manual' = 'auto'): string {
  return renderToStaticMarkup(
    <SlotCard
      slot={{ ...base, ...slot }}
      mode={mode}
      enabled
      unknownSince={undefined}
      onProvision={() => Promise.resolve()}
      onCancel={() => Promise.resolve()}
    />,
  );
}

/** The card's buttons, as `class:text`. */
const buttons = (html: string) =>
  [...html.matchAll(/<button[^>]*class="([^"]*)"[^>]*>([^<]*)<\/button>/g)].map(
    ([, cls, text]) => `${cls}:${text}`,
  );

describe('SlotCard', () => {
  it('offers Provision next on a PASS card, secondary, in auto and in manual mode', () => {
    const pass = { state: 'pass', progress: 1, registrationId: 'ls-100-sn-0042' } as const;
    expect(buttons(render(pass, 'auto'))).toEqual(['provision-next:Provision next']);
    expect(buttons(render(pass, 'manual'))).toEqual(['provision-next:Provision next']);
  });

  it('keeps the other Provision buttons as they were', () => {
    expect(buttons(render({ state: 'waiting' }, 'auto'))).toEqual([]);
    expect(buttons(render({ state: 'waiting' }, 'manual'))).toEqual(['provision:Provision']);
    expect(buttons(render({ state: 'fail' }))).toEqual(['provision:Provision again']);
    expect(buttons(render({ state: 'cancelled' }))).toEqual(['provision:Provision again']);
  });

  it('offers no Cancel once the run is at its commit step, and says why', () => {
    const verify = render({ state: 'running', step: 'verify', progress: 0.8 });
    expect(buttons(verify)).toEqual(['cancel:Cancel']);
    expect(verify).not.toContain('cannot be cancelled');

    const commit = render({ state: 'running', step: 'commit', progress: 0.95 });
    expect(buttons(commit)).toEqual([]);
    expect(commit).toContain('Save record');
    expect(commit).toContain('<p class="slot-finishing">Finishing: cannot be cancelled now</p>');
  });

  it('shows why a run or a check was cancelled', () => {
    const html = render({
      state: 'cancelled',
      error: { code: 'RUN_CANCELLED', message: 'The run was cancelled.' },
    });
    expect(html).toContain('data-testid="slot-error"');
    expect(html).toContain('The run was cancelled.');
    expect(html).toContain('RUN_CANCELLED');
  });

  it('shows no error box on a cancelled card without a reason', () => {
    expect(render({ state: 'cancelled' })).not.toContain('slot-error');
  });
});

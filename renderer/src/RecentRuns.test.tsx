import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { RunViewPayload, SlotViewPayload } from '../../station/api/contract.js';
import { RecentRunsView } from './RecentRuns.js';

/** The day the tests draw the list on: 1 March 2026, 15:00 where the test runs. */
const NOW = new Date(2026, 2, 1, 15, 0, 0);
/** A time of that day on the machine running the test, whatever its time zone. */
const localIso = (h: number, m: number, s: number) => new Date(2026, 2, 1, h, m, s).toISOString();
/** A run of an earlier day, shown with its date. */
const earlierDayIso = (h: number, m: number, s: number) =>
  new Date(2026, 0, 5, h, m, s).toISOString();

const runs: RunViewPayload[] = [
  {
    runId: 12,
    port: '/dev/ttyUSB2',
    state: 'fail',
    startedAt: localIso(14, 2, 11),
    finishedAt: localIso(14, 2, 19),
    serialNumber: 'SN-0042',
    model: 'LS-100',
    registrationId: 'ls-100-sn-0042',
    error: {
      code: 'CSR_SUBJECT_MISMATCH',
      message: 'The device asked for a certificate with the wrong name. Set it aside.',
      detail: 'CN "LS-EVIL" is not the registration ID',
    },
  },
  {
    runId: 11,
    port: '/dev/ttyUSB9',
    state: 'cancelled',
    startedAt: localIso(14, 1, 5),
    finishedAt: localIso(14, 1, 7),
    error: { code: 'RUN_CANCELLED', message: 'The run was cancelled.' },
  },
  {
    runId: 10,
    port: '/dev/ttyUSB0',
    state: 'pass',
    startedAt: earlierDayIso(9, 0, 0),
    finishedAt: earlierDayIso(9, 0, 8),
    serialNumber: 'SN-0041',
    registrationId: 'ls-100-sn-0041',
  },
];

const slots: SlotViewPayload[] = ['/dev/ttyUSB0', '/dev/ttyUSB1', '/dev/ttyUSB2'].map(
  (port, i) => ({ slot: i + 1, port, state: 'waiting', progress: 0, updatedAt: 0 }),
);

function render(props: Partial<Parameters<typeof RecentRunsView>[0]> = {}): string {
  return renderToStaticMarkup(
    <RecentRunsView
      runs={runs}
      problem={undefined}
      failedOnly={false}
      onFailedOnly={() => undefined}
      slots={slots}
      stale={false}
      now={NOW}
      {...props}
    />,
  );
}

/** The rows of the table, each as its text with tags stripped. */
function rowTexts(html: string): string[] {
  const body = /<tbody>(.*)<\/tbody>/s.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr[^>]*>(.*?)<\/tr>/gs)].map(([, row]) =>
    row!
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

describe('RecentRunsView', () => {
  it('lists the runs as given, newest first, in a table with headers', () => {
    const html = render();
    expect(html).toContain('<h2 id=');
    expect(html).toMatch(/<table class="recent-runs-table" aria-labelledby="[^"]+">/);
    for (const header of ['Started', 'Slot', 'Serial', 'Registration ID', 'Result']) {
      expect(html).toContain(`<th scope="col">${header}</th>`);
    }
    expect(rowTexts(html)).toEqual([
      // The end and the run id are read out (the tooltip shows them to a mouse).
      '14:02:11 , ended 14:02:19, run 12 3 /dev/ttyUSB2 SN-0042 ls-100-sn-0042 ✕ FAIL ' +
        'The device asked for a certificate with the wrong name. Set it aside. CSR_SUBJECT_MISMATCH',
      // A port that has no slot now is named by its path alone.
      '14:01:05 , ended 14:01:07, run 11 /dev/ttyUSB9 — — ■ CANCELLED The run was cancelled. RUN_CANCELLED',
      '2026-01-05 09:00:00 , ended 2026-01-05 09:00:08, run 10 1 /dev/ttyUSB0 SN-0041 ls-100-sn-0041 ✓ PASS',
    ]);
  });

  it('keeps a space between a slot and its port, for a screen reader and a copy', () => {
    expect(render()).toContain(
      '<span class="recent-run-slot">3</span> <span class="recent-run-port">/dev/ttyUSB2</span>',
    );
  });

  it('dates a run of yesterday once the day has changed', () => {
    const lastMinute = new Date(2026, 1, 28, 23, 59, 30);
    const html = render({
      runs: [{ ...runs[0]!, startedAt: lastMinute.toISOString() }],
      now: new Date(2026, 2, 1, 0, 0, 1),
    });
    expect(rowTexts(html)[0]).toMatch(/^2026-02-28 23:59:30 /);
    expect(
      rowTexts(
        render({ runs: [{ ...runs[0]!, startedAt: lastMinute.toISOString() }], now: lastMinute }),
      )[0],
    ).toMatch(/^23:59:30 /);
  });

  it('shows each result in words and the slot cards’ colours, and keeps the detail for the log', () => {
    const html = render();
    expect(html).toContain('data-run-id="12" data-state="fail"');
    expect(html).toContain('class="recent-run-result state-fail"');
    expect(html).toContain('class="recent-run-result state-cancelled"');
    expect(html).toContain('class="recent-run-result state-pass"');
    expect(html).toContain('<p class="recent-run-error-code">CSR_SUBJECT_MISMATCH</p>');
    expect(html).not.toContain('LS-EVIL');
    // No inline style anywhere: the CSP refuses them.
    expect(html).not.toContain('style=');
  });

  it('says when no run has ended, or none failed, rather than drawing an empty table', () => {
    const none = render({ runs: [] });
    expect(none).toContain('No run has ended yet.');
    expect(none).not.toContain('<table');
    expect(render({ runs: [], failedOnly: true })).toContain('No failed or cancelled run.');
    expect(render({ runs: [], failedOnly: true })).toMatch(
      /<input type="checkbox"[^>]* checked=""/,
    );
  });

  it('says when the list holds only the latest runs', () => {
    expect(render()).not.toContain('data-testid="recent-runs-more"');
    const many = Array.from({ length: 20 }, (_, i) => ({ ...runs[2]!, runId: 100 - i }));
    expect(render({ runs: many })).toContain(
      'The latest 20 only: `station runs list` on the workstation lists them all.',
    );
  });

  it('says in words why the runs could not be read, keeping the last list', () => {
    const problem = {
      message: 'The station did not answer "recentRuns" in time.',
      code: 'API_TIMEOUT',
    };
    const html = render({ problem });
    expect(html).toContain('The recent runs could not be read: The station did not answer');
    expect(html).toContain('(API_TIMEOUT)');
    expect(rowTexts(html)).toHaveLength(3);
    const first = render({ runs: undefined, problem });
    expect(first).toContain('data-testid="recent-runs-problem"');
    expect(first).not.toContain('Loading');
    expect(render({ runs: undefined })).toContain('Loading the recent runs');
  });

  it('dims a list that may be out of date, and offers no filter the station cannot answer', () => {
    const stale = render({ stale: true });
    expect(stale).toContain('class="recent-runs stale"');
    expect(stale).toMatch(/<input type="checkbox"[^>]* disabled=""/);
    const live = render();
    expect(live).toContain('class="recent-runs"');
    expect(live).not.toContain('disabled');
  });
});

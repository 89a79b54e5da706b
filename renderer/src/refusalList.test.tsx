import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { StationApiError } from '../../station/api/stationClient.js';
import { CommandRefusals } from './CommandRefusals.js';
import {
  MAX_REFUSALS,
  refusalText,
  withRefusal,
  withoutRefusal,
  type Refusal,
} from './refusalList.js';

const refusal = (key: string, text = `${key} refused`): Refusal => ({ key, text });
const keys = (list: readonly Refusal[]) => list.map((r) => r.key);

describe('command refusals', () => {
  it('keeps a refusal when another command is refused, newest last', () => {
    const list = withRefusal(withRefusal([], refusal('provision 3')), refusal('provision 4'));
    expect(keys(list)).toEqual(['provision 3', 'provision 4']);
  });

  it('replaces an older refusal of the same command and slot, moving it last', () => {
    let list = [refusal('provision 3', 'old'), refusal('cancel 3')];
    list = withRefusal(list, refusal('provision 3', 'new'));
    expect(list).toEqual([refusal('cancel 3'), refusal('provision 3', 'new')]);
  });

  it(`keeps no more than ${MAX_REFUSALS}, dropping the oldest`, () => {
    let list: Refusal[] = [];
    for (let slot = 1; slot <= MAX_REFUSALS + 2; slot++) {
      list = withRefusal(list, refusal(`provision ${slot}`));
    }
    expect(keys(list)).toEqual([3, 4, 5, 6, 7].map((slot) => `provision ${slot}`));
  });

  it('dismisses one refusal and leaves the others', () => {
    const list = [refusal('provision 3'), refusal('setMode')];
    expect(keys(withoutRefusal(list, 'provision 3'))).toEqual(['setMode']);
  });

  it('shows each refusal as its own alert with its own Dismiss', () => {
    const html = renderToStaticMarkup(
      <CommandRefusals
        refusals={[refusal('provision 3'), refusal('provision 4')]}
        onDismiss={() => undefined}
      />,
    );
    expect(html.match(/class="command-error" role="alert"/g)).toHaveLength(2);
    expect(html.match(/>Dismiss<\/button>/g)).toHaveLength(2);
    expect(html.indexOf('provision 3 refused')).toBeLessThan(html.indexOf('provision 4 refused'));
  });
});

describe('refusalText', () => {
  const error = (code: string, message: string) => new StationApiError({ code, message });

  it("gives the station's own refusal with its code", () => {
    const text = refusalText(
      'Provision slot 3',
      error('LINE_PORT_ABSENT', 'The device was unplugged.'),
      'slot 3',
    );
    expect(text).toBe('Provision slot 3: The device was unplugged. (LINE_PORT_ABSENT)');
  });

  it.each([
    ['API_TIMEOUT', 'The station did not answer "provision" in time.'],
    ['API_DISCONNECTED', 'The connection to the station is closed.'],
  ])('says a command with no answer (%s) may still be carried out', (code, message) => {
    const text = refusalText('Provision slot 3', error(code, message), 'slot 3');
    expect(text).toContain('Provision slot 3: no answer');
    expect(text).toContain('The station may still carry it out.');
    expect(text).toContain('Check slot 3 before pressing again.');
    expect(text).toContain(`(${code})`);
  });

  it('asks to check the screen for a command on no slot', () => {
    const text = refusalText('Change mode', error('API_TIMEOUT', 'no answer'));
    expect(text).toContain('Check the screen before pressing again.');
  });
});

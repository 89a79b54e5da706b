import { describe, expect, it } from 'vitest';
import { TakingTurns } from './retirementTurns.js';

/** A pass with work while `due` says so. */
function pass(name: string, due: () => boolean) {
  return { name, isDue: due };
}

describe('passes taking turns at the worker', () => {
  it('gives the turn to the other pass while both have work, not always to the first', () => {
    const turns = new TakingTurns([pass('retire', () => true), pass('disable', () => true)]);
    expect([1, 2, 3, 4].map(() => turns.due()?.name)).toEqual([
      'retire',
      'disable',
      'retire',
      'disable',
    ]);
  });

  it('gives it to whichever has work, and none when neither has', () => {
    let retireDue = false;
    let disableDue = true;
    const turns = new TakingTurns([
      pass('retire', () => retireDue),
      pass('disable', () => disableDue),
    ]);
    expect(turns.due()?.name).toBe('disable');
    expect(turns.due()?.name).toBe('disable');
    retireDue = true;
    disableDue = false;
    expect(turns.due()?.name).toBe('retire');
    retireDue = false;
    expect(turns.due()).toBeUndefined();
  });
});

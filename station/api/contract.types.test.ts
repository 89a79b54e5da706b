/**
 * The contract's payload types must be the line's own types, so a change to SlotView,
 * OutboxCounts or StationStatus that the contract does not follow fails `npm run typecheck`
 * (tsc checks this file; at run time the assertions are no-ops, and the schema test below runs).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { LineController, StationStatus } from '../line/lineController.js';
import type { CodedError, OutboxCounts, RunView, SlotView } from '../line/lineTypes.js';
import {
  codedErrorSchema,
  eventPayloadSchemas,
  runViewSchema,
  type ApiError,
  type CommandResult,
  type EventPayload,
  type OutboxCountsPayload,
  type RunViewPayload,
  type SlotViewPayload,
  type StationStatusPayload,
} from './contract.js';

describe('contract types mirror the line', () => {
  it('SlotView, OutboxCounts, StationStatus, CodedError and RunView are the same types', () => {
    expectTypeOf<SlotViewPayload>().toEqualTypeOf<SlotView>();
    expectTypeOf<OutboxCountsPayload>().toEqualTypeOf<OutboxCounts>();
    expectTypeOf<StationStatusPayload>().toEqualTypeOf<StationStatus>();
    expectTypeOf<ApiError>().toEqualTypeOf<CodedError>();
    expectTypeOf<EventPayload<'slot'>>().toEqualTypeOf<SlotView>();
    expectTypeOf<CommandResult<'snapshot'>>().toEqualTypeOf<{
      status: ReturnType<LineController['status']>;
      slots: ReturnType<LineController['slots']>;
      outbox: ReturnType<LineController['outboxCounts']>;
      unlockHere: boolean;
      dataDirFlag?: string;
    }>();
    expectTypeOf<RunViewPayload>().toEqualTypeOf<RunView>();
    expectTypeOf<CommandResult<'recentRuns'>>().toEqualTypeOf<{
      runs: ReturnType<LineController['recentRuns']>;
    }>();
    // At run time: the schemas accept what the line produces.
    const slot: SlotView = {
      slot: 1,
      port: '/dev/ttyUSB0',
      state: 'empty',
      progress: 0,
      updatedAt: 1,
    };
    expect(eventPayloadSchemas.slot.parse(slot)).toEqual(slot);
    const error: CodedError = { code: 'X', message: 'y' };
    expect(codedErrorSchema.parse(error)).toEqual(error);
    const run: RunView = {
      runId: 7,
      port: '/dev/ttyUSB0',
      state: 'fail',
      startedAt: '2026-01-05T06:00:00.000Z',
      finishedAt: '2026-01-05T06:00:09.000Z',
      error,
    };
    expect(runViewSchema.parse(run)).toEqual(run);
  });
});

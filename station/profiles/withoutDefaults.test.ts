import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { productProfileSchema } from './productProfile.js';
import { defaultsOutOfReach, withoutDefaults } from './withoutDefaults.js';

describe('withoutDefaults', () => {
  it('reaches every default of the product profile schema', () => {
    // Fails when the schema takes up a construct the walk treats as a leaf (a union, a tuple, a
    // transform of an object...) around a default, or a prefault or catch: teach readNode it.
    expect(defaultsOutOfReach(productProfileSchema)).toEqual([]);
  });

  it('turns a parsed profile back into the file that left every default out', () => {
    const file = {
      name: 'Sensor A',
      models: ['SENSOR-A'],
      dps: { idScope: '0ne0012AB34' },
      attestation: { mode: 'x509-device-key' },
    };
    const parsed = productProfileSchema.parse(file);
    expect(parsed).not.toEqual(file);
    expect(withoutDefaults(productProfileSchema, parsed)).toEqual(file);
  });

  it('keeps values other than the default, and array items and record entries always', () => {
    const schema = z.strictObject({
      retries: z.number().default(3),
      steps: z.array(
        z.strictObject({ name: z.string(), timeoutMs: z.number().default(1000) }).default({
          name: 'boot',
          timeoutMs: 1000,
        }),
      ),
      byModel: z.record(z.string(), z.strictObject({ slots: z.number().default(1) })),
    });
    const parsed = schema.parse({
      retries: 4,
      steps: [{ name: 'boot' }, { name: 'flash', timeoutMs: 5000 }],
      byModel: { A: {}, B: { slots: 2 } },
    });
    expect(withoutDefaults(schema, parsed)).toEqual({
      retries: 4,
      // The first step equals the item default, yet is a step of the list.
      steps: [{ name: 'boot' }, { name: 'flash', timeoutMs: 5000 }],
      byModel: { A: {}, B: { slots: 2 } },
    });
  });

  it('names the defaults it cannot reach, so the schema test above can fail', () => {
    const schema = z.strictObject({
      mode: z.union([z.strictObject({ a: z.number().default(1) }), z.string()]),
      pair: z.tuple([z.string().default('x')]),
      shaped: z.strictObject({ b: z.number().default(2) }).transform((value) => value.b),
      early: z.string().prefault('y'),
      fallback: z.number().catch(0),
      reached: z.boolean().default(false),
    });
    expect(defaultsOutOfReach(schema)).toEqual([
      'mode.options[0].a',
      'pair.items[0]',
      'shaped.in.b',
      'early',
      'fallback',
    ]);
  });
});

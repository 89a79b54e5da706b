/**
 * zod builds fast parsers with `new Function` when it may, and probes for that while the
 * contract's schemas are being constructed. This page's CSP forbids eval, so the probe would be
 * refused and reported as a violation. Imported first by main.tsx, before the contract module
 * is evaluated, so the probe never runs.
 */
import { z } from 'zod';

z.config({ jitless: true });

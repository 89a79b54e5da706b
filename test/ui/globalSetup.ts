/**
 * Vitest global setup: builds the station UI once, before any test file runs, when its sources
 * changed. Doing it here rather than in each UI test file keeps parallel workers from building
 * into the same folder at once.
 */
import { ensureRendererBuilt } from '../../scripts/rendererBuild.js';

export default async function setup(): Promise<void> {
  await ensureRendererBuilt();
}

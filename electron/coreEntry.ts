/**
 * The entry Electron forks as the station core (utilityProcess). Everything it runs is plain
 * station code (station/api/coreProcess.ts); this file only finds the parent port.
 */
import { runCore } from '../station/api/coreProcess.js';
import { demoStationFactory } from '../station/api/stationFactory.js';

const { parentPort } = process;
if (!parentPort) {
  throw new Error('electron/coreEntry runs only inside an Electron utilityProcess');
}

// With no configuration the station runs the DEMO line (docs/architecture.md, "Embedded
// defaults"); the configured line's factory takes its place here when it exists.
runCore({ parentPort, createStation: demoStationFactory, onStopped: () => process.exit(0) });

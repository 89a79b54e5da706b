/**
 * The entry Electron forks as the station core (utilityProcess). Everything it runs is plain
 * station code (station/api/coreProcess.ts); this file only finds the parent port.
 */
import { runCore } from '../station/api/coreProcess.js';
import { desktopStationFactory } from '../station/production/desktopStation.js';

const { parentPort } = process;
if (!parentPort) {
  throw new Error('electron/coreEntry runs only inside an Electron utilityProcess');
}

// The saved line, locked until a supervisor unlocks it in the window; with no configuration the
// DEMO line (docs/architecture.md, "Embedded defaults").
runCore({ parentPort, createStation: desktopStationFactory, onStopped: () => process.exit(0) });

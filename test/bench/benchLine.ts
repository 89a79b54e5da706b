/** The line under test in the line benchmark: a simulator child process and a Line on its ports. */
import { createDemoCa } from '../../station/demo/demoCa.js';
import { Line } from '../../station/line/line.js';
import { demoProfile } from '../../station/profiles/demoProfile.js';
import { ProvisioningStore } from '../../station/store/provisioningStore.js';
import { startSimulatorProcess, type SimulatorProcess } from './simulatorProcess.js';

export interface BenchLine {
  line: Line;
  simulator: SimulatorProcess;
  close(): Promise<void>;
}

/**
 * One simulated device per slot (socat ptys or loopback TCP at `baud`, default device
 * latencies), the DEMO CA, the SQLite ProvisioningStore on the CA's in-memory database, and a
 * started Line in manual mode that re-provisions (duplicates: 'reprovision').
 */
export async function openBenchLine(
  slots: number,
  baud: number,
  link: 'pty' | 'tcp',
): Promise<BenchLine> {
  const simulator = await startSimulatorProcess(slots, baud, link === 'tcp' ? ['--tcp'] : []);
  const demoCa = await createDemoCa('Line Station BENCH');
  const line = new Line({
    profile: { ...demoProfile(), name: 'BENCH LS-DEMO-1', duplicates: 'reprovision' },
    ca: demoCa.ca,
    recorder: new ProvisioningStore(demoCa.db),
    ports: { configured: [...simulator.hostPaths], discover: false, baudRate: baud },
    mode: 'manual',
    demo: true,
    sealSecret: () => Promise.reject(new Error('the bench profile seals nothing')),
  });
  const close = async (): Promise<void> => {
    await line.stop();
    await simulator.stop();
    await demoCa.dispose();
  };
  try {
    await line.start();
  } catch (err) {
    await close();
    throw err;
  }
  return { line, simulator, close };
}

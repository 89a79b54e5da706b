/** A run the last stop cut off, as the line's note names it. */
export interface CutOffRun {
  port: string;
  /** The board it was on, when identify had read it before the stop. */
  device?: { serialNumber: string; model: string };
}

/**
 * The ports whose runs the last stop of the station cut off (the store closes those runs at the
 * start as RUN_INTERRUPTED). The start-up log says so, but the technician at the line reads the
 * screen: its notes name those ports, and the boards identify had read on them, until a new run
 * starts on each port. The device that was there has no recorded identity and must be
 * provisioned again; a run on the port is what ends the note, since the board may have been
 * swapped for another by then.
 */
export class InterruptedPortsNote {
  /** Port → the devices cut off there (several runs of one port can be cut off over restarts). */
  private readonly ports = new Map<string, string[]>();

  constructor(runs: Iterable<CutOffRun>) {
    for (const run of runs) {
      const devices = this.ports.get(run.port) ?? [];
      const device = run.device && `${run.device.serialNumber} (${run.device.model})`;
      if (device !== undefined && !devices.includes(device)) devices.push(device);
      this.ports.set(run.port, devices);
    }
  }

  /** A run started on `port`; true when that changed the note. */
  ranOn(port: string): boolean {
    return this.ports.delete(port);
  }

  note(): string | undefined {
    if (this.ports.size === 0) return undefined;
    const where = [...this.ports].map(([port, devices]) =>
      devices.length > 0 ? `${port}: ${devices.join(', ')}` : port,
    );
    const named = [...this.ports.values()].some((devices) => devices.length > 0);
    const what = named ? 'those devices have' : 'the device that was there has';
    return `The station stopped during a run on ${where.join('; ')} (RUN_INTERRUPTED): ${what} no recorded identity. Provision ${named ? 'them' : 'it'} again before ${named ? 'they ship' : 'it ships'}.`;
  }
}

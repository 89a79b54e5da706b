/**
 * The ports whose runs the last stop of the station cut off (the store closes those runs at the
 * start as RUN_INTERRUPTED). The start-up log says so, but the technician at the line reads the
 * screen: its notes name those ports until a new run starts on each, since the device that was
 * on one has no recorded identity and must be provisioned again. Which device that was is not
 * known (the run had not recorded it), so a run on the port is all that can end the note.
 */
export class InterruptedPortsNote {
  private readonly ports: Set<string>;

  constructor(ports: Iterable<string>) {
    this.ports = new Set(ports);
  }

  /** A run started on `port`; true when that changed the note. */
  ranOn(port: string): boolean {
    return this.ports.delete(port);
  }

  note(): string | undefined {
    if (this.ports.size === 0) return undefined;
    const ports = [...this.ports].join(', ');
    return `The station stopped during a run on ${ports} (RUN_INTERRUPTED): the device that was there has no recorded identity. Provision it again before it ships.`;
  }
}

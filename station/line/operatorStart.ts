/**
 * The operator pressed Provision during the check: their run starts once the check has let the
 * port go, unless they press Cancel before then (the line's provision and cancel).
 */
export class OperatorStart {
  private pending = false;

  /**
   * Provision during a check: the operator's run is due once the check ends (`take`).
   * False when it already was (a double click): one start is pending, not two.
   */
  defer(): boolean {
    if (this.pending) return false;
    this.pending = true;
    return true;
  }

  /** Cancel before the check ended: the Provision pressed during it starts nothing. */
  withdraw(): void {
    this.pending = false;
  }

  /** The check ended: whether the operator's start is still due. It is taken once. */
  take(): boolean {
    const due = this.pending;
    this.pending = false;
    return due;
  }
}

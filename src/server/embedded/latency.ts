/** Delay added to every API and file-server request; mutable so a bench can seed fast, then slow the server down. */
export class Latency {
  constructor(public ms: number = 0) {}

  set(ms: number): void {
    this.ms = Math.max(0, ms);
  }
}

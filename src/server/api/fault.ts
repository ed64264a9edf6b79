/** An error answered in the ClearML envelope: HTTP status = result_code. */
export class ApiFault extends Error {
  constructor(
    readonly code: number,
    readonly subcode: number,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiFault';
  }
}

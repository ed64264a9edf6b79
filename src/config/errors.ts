/**
 * The one error type configuration loading throws. Its message is meant to be printed as is, on one line:
 * it names the file and key at fault and says how to fix it, and never contains a secret value.
 */
export class ConfigError extends Error {
  /** the file at fault, when there is one */
  readonly file?: string;
  /** the dotted clearml.conf key (or env var name) at fault, when there is one */
  readonly key?: string;

  constructor(message: string, where: { file?: string; key?: string } = {}) {
    super(message);
    this.name = 'ConfigError';
    this.file = where.file;
    this.key = where.key;
  }
}

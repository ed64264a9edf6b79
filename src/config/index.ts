export type * from './types.js';
export { ConfigError } from './errors.js';
export { loadConfig, DEFAULT_API_VERSION, type ConfigOverrides, type LoadConfigOptions } from './load.js';
export { describeConfig, maskedConfig, maskSecret, redactUrl, type MaskedConfig } from './mask.js';
export { deriveWebServer, deriveFilesServer } from './hosts.js';

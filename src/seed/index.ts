/** Public surface of the seeder (a client of a ClearML server; not part of src/server). */
export { seedServer } from './seed.js';
export { formatSeedSummary, formatBytes } from './format.js';
export { fileUrl, taskFolder } from './files.js';
export type {
  SeedApi, SeededDataset, SeedHosts, SeedOptions, SeedPhase, SeedResult, SeedS3, SeedSummary, SeededFile, SeededFileKind, SeededModel,
  SeededTask,
} from './types.js';

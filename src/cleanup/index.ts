/** The cleanup engine: import from here. It knows nothing of yargs, winston or how it was started. */
export type { Api, ApiErrorLike, FileOutcome, FileStatus, FileVerdict, Logger, Storage } from './ports.js';
export { silentLogger } from './ports.js';
export type { CleanupOptions } from './options.js';
export { DEFAULT_OPTIONS, resolveOptions } from './options.js';
export { runPass, abortableSleep } from './pass.js';
export type { PassDeps } from './pass.js';
export { runLoop } from './loop.js';
export type { LoopDeps } from './loop.js';
export type { PassReport, BackendTotals } from './report.js';
export { summarize, formatBytes } from './report.js';
export type { BatchPlan, PlannedTask, PlannedModel, KeptModel, DeferredModel } from './plan.js';
export type { SkippedTask, Candidate } from './select.js';
export { Journal, defaultStateDir } from './journal.js';
export type { JournalEntry } from './journal.js';
export { CountingApi } from './counting-api.js';
export { cutoffDate, parseServerDate, archiveTime, serverIso } from './dates.js';

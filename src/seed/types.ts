/** Options, results and summary of `seedServer`. */
import type { TaskStatus } from '../types/clearml.js';

/** The few client calls the seeder needs; ClearMLClient satisfies it. */
export interface SeedApi {
  call<T>(endpoint: string, body?: object): Promise<T>;
  callJsonLines<T>(endpoint: string, items: readonly object[]): Promise<T>;
  /** bearer token for the file server (and the embedded server's test-support endpoints) */
  getToken(): Promise<string>;
}

export interface SeedHosts {
  /** API server base URL, e.g. http://127.0.0.1:8008 (used only for the embedded /_embedded/backdate) */
  apiUrl: string;
  /** file server base URL, e.g. http://127.0.0.1:8081 */
  filesUrl: string;
}

/** An S3-compatible endpoint to put a few artifacts on (s3rver, MinIO, AWS). */
export interface SeedS3 {
  /** e.g. http://127.0.0.1:4569; omit for AWS */
  endpoint?: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  region?: string;
  /** how many tasks get one s3:// artifact, default min(20, tasks / 10) */
  tasks?: number;
}

export type SeedPhase = 'tasks' | 'files' | 'events' | 'links' | 'datasets' | 'statuses' | 'archive' | 'backdate';

export interface SeedOptions {
  /** how many tasks in all */
  tasks: number;
  /** PRNG seed; same seed, same data set (ids and timestamps aside) */
  seed?: number;
  /** uploaded output artifacts per task; default 1-4, varied */
  artifactsPerTask?: number;
  /** output models per task; default 0-2, varied */
  modelsPerTask?: number;
  /** debug images per task; default 3-25 with about 10% of tasks over 100 */
  debugImagesPerTask?: number;
  /** plot events (each with one uploaded image) per task; default 0-2 (0 when allEligible) */
  plotsPerTask?: number;
  /** console lines per task; default 5-30 (2 when allEligible) */
  logLinesPerTask?: number;
  /**
   * A uniform data set for benchmarks: every task an archived Draft, old enough to be deleted,
   * with exactly the given numbers of uploaded artifacts, models (each its own file) and debug images;
   * no foreign URLs, no shared or in-use models.
   */
  allEligible?: boolean;
  /**
   * Status of every task when allEligible: 'created' (archived Drafts, the default) or 'completed'
   * (run and finished, so status_changed is set: the official script's query only finds those).
   */
  uniformStatus?: 'created' | 'completed';
  /**
   * Dataset families (versions built on parent versions, see dataset-families.ts); default about one
   * per 60 tasks, at least 1 (0 when allEligible)
   */
  datasetFamilies?: number;
  /** age threshold the summary's "eligible" count assumes, default 30 days */
  thresholdDays?: number;
  /** concurrent API calls, default 16 */
  concurrency?: number;
  /** concurrent multipart uploads, default 4 */
  uploadConcurrency?: number;
  /** files per multipart upload request, default 250 */
  filesPerUpload?: number;
  /** events per events.add_batch call, default 5000 */
  eventsPerBatch?: number;
  s3?: SeedS3;
  /** progress of each phase, e.g. for a CLI spinner */
  onProgress?: (phase: SeedPhase, done: number, total: number) => void;
  /** a problem that does not stop the seed (e.g. backdating not offered by a real server) */
  onWarning?: (msg: string) => void;
}

export type SeededFileKind = 'artifact' | 'model' | 'debug_image' | 'plot_image' | 'dataset';

export interface SeededFile {
  /** full URL as registered in ClearML (percent-encoded path) */
  url: string;
  /** the object path on the file server, decoded, without leading "/" */
  path: string;
  bytes: number;
  kind: SeededFileKind;
  /** the task whose folder holds the file */
  taskId: string;
}

export interface SeededModel {
  id: string;
  name: string;
  /** the task that created it */
  taskId: string;
  uri: string;
  /** another model (of another task) points to the same file */
  sharedUri: boolean;
  /** tasks that list it in models.input */
  usedBy: string[];
}

export interface SeededTask {
  id: string;
  name: string;
  projectId: string;
  projectName: string;
  status: TaskStatus;
  archived: boolean;
  /** how far back its timestamps were shifted (0 when not backdated) */
  ageDays: number;
  /** archived and older than thresholdDays (published ones included; see SeedSummary.eligiblePublished) */
  eligible: boolean;
  /** URLs of the files in its own folder (artifacts, models, debug and plot images) */
  files: string[];
  /** output models it created */
  models: string[];
  /** models it uses as input */
  inputModels: string[];
  /** artifact URIs registered but never uploaded by us (foreign hosts, input references, s3) */
  externalUris: string[];
  /** uploaded debug images (distinct files) */
  debugImages: number;
  /** debug-image events; more than debugImages when some point again at a file */
  debugImageEvents: number;
}

export interface SeedSummary {
  seed: number;
  thresholdDays: number;
  projects: number;
  tasks: number;
  byStatus: Record<string, number>;
  archived: number;
  /** archived and older than thresholdDays */
  eligible: number;
  /** of which published (a cleanup needs force for those) */
  eligiblePublished: number;
  /** archived but recent: a cleanup must keep them */
  archivedRecent: number;
  /** old but not archived: a cleanup must keep them */
  oldNotArchived: number;
  /** false when the server offered no /_embedded/backdate (every task is then recent) */
  backdated: boolean;
  filesUploaded: number;
  bytesUploaded: number;
  artifactsUploaded: number;
  /** output artifacts registered by URL on a foreign host, never uploaded */
  foreignArtifacts: number;
  inputArtifacts: number;
  s3Artifacts: number;
  models: number;
  /** models listed as input by another task */
  modelsInUse: number;
  /** files that two models point to */
  sharedModelFiles: number;
  /** uploaded debug images (distinct files) */
  debugImages: number;
  /** debug-image events, some pointing again at a file already reported (history wrap-around) */
  debugImageEvents: number;
  /** tasks with more than 100 debug images */
  tasksOver100DebugImages: number;
  plots: number;
  logLines: number;
  /** dataset versions seeded, how many a correct pass deletes (force_delete), how many it keeps for a child */
  datasetVersions: number;
  datasetVersionsDeletable: number;
  datasetVersionsKeptForLineage: number;
  elapsedMs: number;
  warnings: string[];
}

export interface SeedResult {
  summary: SeedSummary;
  tasks: SeededTask[];
  models: SeededModel[];
  files: SeededFile[];
  /** dataset versions (tasks too, in hidden `.datasets` projects), apart from `tasks` */
  datasets: SeededDataset[];
}

/** One dataset version of a seeded family, with what a correct cleanup (force_delete) does to it. */
export interface SeededDataset {
  id: string;
  name: string;
  version: string;
  parents: string[];
  archived: boolean;
  ageDays: number;
  /** archived and older than the threshold */
  eligible: boolean;
  /** eligible and no version that stays reads from it: a pass with force_delete deletes it */
  deletable: boolean;
  /** eligible but kept: "<name> <version> <id>" of the version that stays and needs it */
  keptFor?: string;
  /** its chunks and state on the file server */
  files: string[];
  /** files it registered by link (never uploaded, never deleted) */
  links: string[];
}

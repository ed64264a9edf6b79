/**
 * HOOK for `--run-as-service true` (registering this process as a ClearML task and enqueueing it).
 * A later part replaces `prepareRunAsService`; `run` only relies on the ServiceSetup contract below.
 * For now: under an agent (CLEARML_TASK_ID set) we just run, protecting our own task; locally we
 * refuse with a clear message instead of guessing.
 */
import type { ClearMLConfig } from '../config/types.js';
import type { Log } from '../log/index.js';
import { EXIT_USAGE } from './exit.js';

export interface ServiceArgs {
  deleteThresholdDays: number;
  cleanupPeriodInDays: number;
  forceDelete: boolean;
  runAsService: boolean;
}

export type ServiceSetup =
  | {
      action: 'continue';
      /** never deleted by the cleanup (our own task) */
      protectedTaskIds: string[];
      /** called while sleeping between passes (liveness pings) */
      onTick?: () => void | Promise<void>;
      /** after each pass, with its report */
      onPassDone?: (report: unknown) => void | Promise<void>;
      /** when the loop ends */
      onExit?: (code: number) => void | Promise<void>;
      /** fires when the service should stop (e.g. aborted from the UI) */
      stopSignal?: AbortSignal;
    }
  | { action: 'exit'; code: number; message?: string };

export async function prepareRunAsService(config: ClearMLConfig, args: ServiceArgs, _log: Log): Promise<ServiceSetup> {
  if (!args.runAsService) return { action: 'continue', protectedTaskIds: config.taskId ? [config.taskId] : [] };
  if (config.taskId) return { action: 'continue', protectedTaskIds: [config.taskId] };
  return {
    action: 'exit',
    code: EXIT_USAGE,
    message:
      'running as a ClearML service (registering a task and enqueueing it) is not available yet; ' +
      'pass --run-as-service false to run the cleanup locally',
  };
}

/** A problem with setting up the task that the user can fix: printed as one line, exit 2. */
export class TaskSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskSetupError';
  }
}

// Progress events: what a long operation tells the user while it runs. The API streams them as
// NDJSON; the CLI renders them as plain lines or a listr2 task list.

export interface ProgressEvent {
  at: string;
  service: string;
  rolloutId?: number;
  event: string;
  message: string;
  data?: unknown;
}

export type Reporter = (e: ProgressEvent) => void;

export const silentReporter: Reporter = () => undefined;

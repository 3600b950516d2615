export { createLog, type Log, type LoggerOptions, type ProcessLog } from './logger.js';
export { CappedFile, DEFAULT_LOG_MAX_BYTES } from './capped-file.js';
export {
  formatRecord,
  parseLine,
  type LogFields,
  type LogLevel,
  type LogRecord,
} from './record.js';
export { matches, selectRecords, type LogFilter } from './filter.js';
export { followLogs, readLog, type LogSource } from './read.js';

export { createApi, type ApiDeps } from './app.js';
export type { StreamLine } from './ndjson.js';
export { servedOver, type Transport } from './transport.js';

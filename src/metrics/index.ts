export { DaemonMetrics, type DaemonMetricsDeps } from './daemon-metrics.js';
export { listenMetrics, scrape, CONTENT_TYPE, type MetricsSources } from './server.js';

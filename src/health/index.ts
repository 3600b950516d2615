export {
  probe,
  httpProbe,
  tcpProbe,
  observeProbes,
  type ProbeResult,
  type ProbeTarget,
} from './probe.js';
export { waitReady, type WaitReadyOptions } from './wait-ready.js';

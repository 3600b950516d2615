export { probe, httpProbe, tcpProbe, observeProbes, type ProbeResult } from './probe.js';
export { waitReady, type WaitReadyOptions } from './wait-ready.js';

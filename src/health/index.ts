export { probe, httpProbe, tcpProbe, type ProbeResult } from './probe.js';
export { waitReady, type WaitReadyOptions } from './wait-ready.js';

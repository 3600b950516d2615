// The 3-node Swarm lab for tests (issue 17). Bring it up with `npm run lab:up` (CI does it in
// .ci/run before the Swarm tests) and down with `npm run lab:down`; code in scripts/lab/.
//
// Several labs can run on one machine side by side; each is named by two env variables, read
// by every helper here and by lab:up/lab:down:
//   HOTSWAP_LAB_PREFIX (default hsl)   netns <p>-hub, <p>-n1..3, links <p>-root, <p>-n<N>p
//   HOTSWAP_LAB_SUBNET (default 10.77.0)  the lab's /24
// Taken: CI and the default use hsl/10.77.0; the lab's own author hslA/10.78.0; the Swarm backend
// helper should use e.g. HOTSWAP_LAB_PREFIX=hslB HOTSWAP_LAB_SUBNET=10.79.0.
//
// Addresses (subnet S):  S.1 the root netns (where tests and load generators run)
//                        S.2 the hub: the registry, http://S.2:5000 (plain HTTP, trusted by the nodes)
//                        S.11, S.12, S.13 node1..node3 (host-mode published ports answer there)
// Engines: node N's dockerd at unix:///tmp/hotswap-lab-<p>/nodeN/docker.sock (labNode(c, N).dockerHost);
//          all three are swarm managers (heartbeat 2 s), labelled lab=node1..node3.
// No IPVS in the kernel: no routing mesh, no VIP. Use --publish mode=host and --endpoint-mode dnsrr.
//
// Images in the lab registry after lab:up (labImages() maps each local tag to its references):
//   hotswap-fixture:v1, :v2, :bad  -> S.2:5000/hotswap-fixture:v1 …  and …/hotswap-fixture@sha256:…
//       the test app (test/fixtures/app): port 8080, GET / gives the version, /health (bad: 500)
//   hotswap-proxy:<package version> -> S.2:5000/hotswap-proxy:<v> and …@sha256:…
//       ENTRYPOINT node; default CMD: /hotswap/dist/src/proxy/bin.js --control
//       /run/hotswap/control.sock --state /var/lib/hotswap/routes.json (scripts/proxy-image.ts)
// Other images: pushImage('<local tag>') from the host engine (through node1).
//
// Faults: cutNode(N)/restoreNode(N) take node N's link down/up at the hub (it goes dark for the
// others and for S.1, its containers keep running); killManager(N) SIGKILLs node N's dockerd
// (containers keep running; the restarted dockerd stops them, no live-restore, and Swarm starts
// the task again), restartNode(N) starts it again. Measured: a cut node is Down after 4-8 s
// (23 s once), Ready again 0.5-71 s after restore; a killed leader leaves the API unusable for
// 12-18 s; "node lost leader status" errors follow a restart: retry Swarm calls.
//
// Load: startLabLoad({ urls, ratePerSec }) runs LoadGenerators in a child process. Do not run a
// LoadGenerator in a process that calls these helpers (they use spawnSync docker, which blocks
// the event loop for seconds during faults: the load would show gaps that are its own).
// Services: createHostService, waitRunning, runningWith, updateState, removeScopedServices
// (all labelled hotswap.scope). Figures and traps: docs/swarm-lab.md.

import { engineAnswers, labConfig, registryAnswers } from '../../scripts/lab/index.js';
import type { LabConfig } from '../../scripts/lab/index.js';
import { HotswapError } from '../../src/errors.js';

export * from '../../scripts/lab/index.js';

/** The lab named by the env, checked to be up (engines and registry answer); else a clear error. */
export async function requireLab(config: LabConfig = labConfig()): Promise<LabConfig> {
  const down = config.nodes.filter((n) => !engineAnswers(n)).map((n) => n.name);
  if (!(await registryAnswers(config))) down.push(`registry ${config.registry}`);
  if (down.length > 0) {
    throw new HotswapError(
      'DOCKER_UNAVAILABLE',
      `lab ${config.prefix} is not up (${down.join(', ')} not answering): run ` +
        `HOTSWAP_LAB_PREFIX=${config.prefix} HOTSWAP_LAB_SUBNET=${config.subnet} npm run lab:up`,
    );
  }
  return config;
}

// The `runtime` section of `<home>/config.yaml` (issue 17): which backend runs the instances.
//   runtime:
//     type: swarm                                   # default: docker (the local engine)
//     host: unix:///run/docker.sock                 # a Swarm manager's Engine API
//     network: hotswap-web                          # overlay network (default hotswap-<scope>)
//     proxy:
//       image: registry:5000/hotswap-proxy:1.0      # built by scripts/proxy-image.ts
//       ports: [8080]                               # listener ports published on every node
//       controlPort: 7300                           # control API, TCP with a token
import { z } from 'zod';

const port = z
  .number({ error: 'expected a port number' })
  .int()
  .min(1, 'expected a port of 1..65535')
  .max(65535, 'expected a port of 1..65535');

export const RuntimeSection = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('docker') }),
    z.strictObject({
      type: z.literal('swarm'),
      host: z
        .string({
          error: 'expected the Engine API of a Swarm manager, e.g. unix:///var/run/docker.sock',
        })
        .regex(/^(unix|tcp):\/\/.+/, 'expected unix:///path or tcp://host:port'),
      network: z
        .string()
        .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'expected a network name')
        .optional(),
      proxy: z.strictObject({
        image: z.string({ error: 'expected the proxy image in a registry the nodes reach' }).min(1),
        ports: z.array(port, { error: 'expected a list of listener ports' }).default([]),
        controlPort: port.default(7300),
      }),
    }),
  ],
  { error: 'expected type "docker" or "swarm"' },
);

export type RuntimeConfig = z.output<typeof RuntimeSection>;
export type SwarmRuntimeConfig = Extract<RuntimeConfig, { type: 'swarm' }>;

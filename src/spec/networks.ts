// Private networks (issue 16): a top-level `networks` section declares them, compose-like, and a
// service lists the ones it joins. A service that lists none is on the network "default", which
// every hotswap home has. Kept apart from schema.ts / normalize.ts.
import { z } from 'zod';
import type { IssueFactory } from './issues.js';
import type { NetworkSpec, ServiceSpec, SpecIssue } from './types.js';

const expecting = (phrase: string) => ({ error: phrase });

/** The network a service is on when it names none. */
export const DEFAULT_NETWORK = 'default';

export const NETWORK_NAME_PATTERN = '^[a-z][a-z0-9_-]{0,30}$';
const namePhrase =
  'a network name: lowercase letters, digits, "-" and "_", starting with a letter, at most 31 characters';
const networkName = z.string(expecting(namePhrase)).regex(new RegExp(NETWORK_NAME_PATTERN));

const networkSchema = z
  .strictObject(
    {
      internal: z.boolean(expecting('true or false')).default(false).meta({
        description: 'No access outside the network: no route to the host LAN or the internet.',
      }),
    },
    expecting('a mapping of network settings, or nothing'),
  )
  .nullable()
  .transform((n) => n ?? { internal: false });

/** The top-level `networks:` section. */
export const networksSection = {
  networks: z
    .record(networkName, networkSchema, expecting('a mapping of network names to settings'))
    .optional()
    .meta({
      description:
        'Private networks services can join (`internal: true`: no outside access). "default" exists without being declared.',
    }),
};

/** The service's `networks:` list. */
export const serviceNetworksField = {
  networks: z.array(networkName, expecting('a list of network names')).min(1).optional().meta({
    description:
      'Networks the service joins; services on one network call each other by name. Default: ["default"].',
  }),
};

/**
 * Fills `networks` on services that list some, from the declared section; a name neither declared
 * nor "default" is an issue at its place in the list.
 */
export function attachDeclaredNetworks(
  services: ServiceSpec[],
  raw: Map<string, string[] | undefined>,
  declared: Record<string, { internal: boolean }> | undefined,
  issues: IssueFactory,
): SpecIssue[] {
  const found: SpecIssue[] = [];
  const known: Record<string, { internal: boolean }> = {
    [DEFAULT_NETWORK]: { internal: false },
    ...declared,
  };
  for (const service of services) {
    const names = raw.get(service.name);
    if (names === undefined) {
      // Undeclared default: left out so config hashes of services without networks stay as they were.
      if (declared?.[DEFAULT_NETWORK]?.internal)
        service.networks = [networkOf(DEFAULT_NETWORK, known)];
      continue;
    }
    const seen = new Set<string>();
    names.forEach((name, index) => {
      const at = ['services', service.name, 'networks', index];
      if (!(name in known)) {
        const list = Object.keys(known).join(', ');
        found.push(
          issues.at(at, `network "${name}" is not declared in the top-level networks (${list})`),
        );
      } else if (seen.has(name)) found.push(issues.at(at, `network "${name}" is listed twice`));
      seen.add(name);
    });
    service.networks = [...seen].filter((n) => n in known).map((n) => networkOf(n, known));
  }
  found.push(...tcpPortClashes(services, issues));
  return found;
}

/**
 * On a network the proxy answers for each service at the service's port; http services share a
 * port (told apart by name), a tcp service cannot.
 */
function tcpPortClashes(services: ServiceSpec[], issues: IssueFactory): SpecIssue[] {
  const found: SpecIssue[] = [];
  for (const tcp of services.filter((s) => s.mode === 'tcp' && s.networks !== undefined)) {
    for (const net of tcp.networks!) {
      const other = services.find(
        (s) =>
          s !== tcp &&
          s.port === tcp.port &&
          networksOf(s).some((n) => n.name === net.name) &&
          (s.mode === 'http' ||
            (s.networks !== undefined && services.indexOf(s) < services.indexOf(tcp))),
      );
      if (other)
        found.push(
          issues.at(
            ['services', tcp.name, 'port'],
            `port ${tcp.port} is also service "${other.name}"'s on network "${net.name}"; a tcp service needs a port of its own on its networks`,
          ),
        );
    }
  }
  return found;
}

function networkOf(name: string, known: Record<string, { internal: boolean }>): NetworkSpec {
  return { name, internal: known[name]?.internal ?? false };
}

/** The networks a service is on: its own list, or the default network. */
export function networksOf(service: Pick<ServiceSpec, 'networks'>): NetworkSpec[] {
  return service.networks ?? [{ name: DEFAULT_NETWORK, internal: false }];
}

/**
 * The other services that share a network with `service`, sorted: their names go into its
 * instances' /etc/hosts, so they are part of what its containers are (and of its config hash).
 */
export function peersOf(service: ServiceSpec, all: readonly ServiceSpec[]): string[] {
  const mine = new Set(networksOf(service).map((n) => n.name));
  return all
    .filter((s) => s.name !== service.name && networksOf(s).some((n) => mine.has(n.name)))
    .map((s) => s.name)
    .sort();
}

// The Swarm endpoints of the Engine API that the Swarm backend uses, typed to the fields it
// reads: info (is this a manager?), nodes, networks, services, tasks, secrets, distribution.
// The transport (and its error mapping) is the Docker backend's DockerClient.
import { setTimeout as sleep } from 'node:timers/promises';
import { HotswapError } from '../../errors.js';
import type { DockerClient } from '../docker/client.js';
import { labelFilters, type LabelSelector } from '../docker/labels.js';

export interface SwarmInfo {
  Swarm?: {
    NodeID?: string;
    LocalNodeState?: 'inactive' | 'pending' | 'active' | 'error' | 'locked';
    ControlAvailable?: boolean;
    Error?: string;
  };
}

export interface SwarmNode {
  ID: string;
  Spec: { Labels?: Record<string, string>; Availability?: string; Role?: string };
  Description?: { Hostname?: string };
  Status: { State: string; Addr?: string; Message?: string };
  ManagerStatus?: { Addr?: string; Leader?: boolean; Reachability?: string };
}

export interface NetworkAttachment {
  Network: { ID: string; Spec?: { Name?: string } };
  Addresses?: string[];
}

export interface SwarmTask {
  ID: string;
  ServiceID: string;
  NodeID?: string;
  Slot?: number;
  Labels?: Record<string, string>;
  CreatedAt: string;
  UpdatedAt?: string;
  DesiredState: string;
  Status: {
    State: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
    PortStatus?: { Ports?: { TargetPort: number; PublishedPort?: number }[] };
  };
  NetworksAttachments?: NetworkAttachment[];
}

export interface PortConfig {
  Protocol: 'tcp';
  TargetPort: number;
  PublishedPort: number;
  PublishMode: 'host' | 'ingress';
}

export interface ServiceSpec {
  Name: string;
  Labels: Record<string, string>;
  TaskTemplate: {
    ContainerSpec: {
      Image: string;
      Labels?: Record<string, string>;
      Command?: string[];
      Args?: string[];
      Env?: string[];
      User?: string;
      ReadOnly?: boolean;
      StopGracePeriod?: number;
      Mounts?: {
        Type: string;
        Source?: string;
        Target: string;
        ReadOnly?: boolean;
        VolumeOptions?: { Labels?: Record<string, string> };
      }[];
      Secrets?: {
        SecretID: string;
        SecretName: string;
        File: { Name: string; UID: string; GID: string; Mode: number };
      }[];
      CapabilityAdd?: string[];
      CapabilityDrop?: string[];
    };
    Resources?: { Limits?: { NanoCPUs?: number; MemoryBytes?: number; Pids?: number } };
    RestartPolicy?: { Condition: 'none' | 'on-failure' | 'any'; Delay?: number };
    Placement?: { Constraints?: string[]; MaxReplicas?: number };
    Networks?: { Target: string }[];
  };
  Mode: { Replicated: { Replicas: number } } | { Global: Record<string, never> };
  UpdateConfig?: { Parallelism: number; Order: 'stop-first' | 'start-first'; Delay?: number };
  EndpointSpec?: { Mode: 'dnsrr' | 'vip'; Ports?: PortConfig[] };
}

export interface SwarmService {
  ID: string;
  Version: { Index: number };
  CreatedAt: string;
  Spec: ServiceSpec;
}

/**
 * Errors of a Swarm that is electing a leader (a manager was lost): the call is made again, for
 * up to TRANSIENT_MS. With 3 managers a re-election takes seconds; a lost quorum outlasts this.
 */
const TRANSIENT =
  /rpc error|raft|does not have a leader|lost leader|DeadlineExceeded|context deadline exceeded/i;
const TRANSIENT_MS = 45_000;

export function isTransient(err: unknown): boolean {
  return err instanceof HotswapError && err.code === 'DOCKER_API' && TRANSIENT.test(err.message);
}

async function retrying<T>(call: () => Promise<T>, budgetMs = TRANSIENT_MS): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (let wait = 250; ; wait = Math.min(2_000, wait * 2)) {
    try {
      return await call();
    } catch (err) {
      if (!isTransient(err) || Date.now() + wait > deadline) throw err;
      await sleep(wait);
    }
  }
}

export class SwarmApi {
  constructor(readonly client: DockerClient) {}

  info(): Promise<SwarmInfo> {
    return this.client.json<SwarmInfo>({ path: '/info' });
  }

  nodes(): Promise<SwarmNode[]> {
    return retrying(() => this.client.json<SwarmNode[]>({ path: '/nodes' }));
  }

  async networkId(name: string): Promise<string | null> {
    const list = await this.client.json<{ ID?: string; Id?: string; Name: string }[]>({
      path: '/networks',
      query: { filters: JSON.stringify({ name: [name] }) },
    });
    const found = list.find((n) => n.Name === name);
    return found ? (found.Id ?? found.ID ?? null) : null;
  }

  async createNetwork(name: string, labels: Record<string, string>): Promise<string> {
    const r = await this.client.json<{ Id: string }>({
      method: 'POST',
      path: '/networks/create',
      body: {
        Name: name,
        Driver: 'overlay',
        Attachable: true,
        Labels: labels,
        CheckDuplicate: true,
      },
    });
    return r.Id;
  }

  /** A create that failed in a re-election may have been applied: then its service is found. */
  createService(spec: ServiceSpec): Promise<string> {
    return retrying(async () => {
      try {
        const r = await this.client.json<{ ID: string }>({
          method: 'POST',
          path: '/services/create',
          body: spec,
        });
        return r.ID;
      } catch (err) {
        if (!isTransient(err)) throw err;
        const made = await this.serviceNamed(spec.Name).catch(() => null);
        if (made !== null) return made;
        throw err;
      }
    });
  }

  private async serviceNamed(name: string): Promise<string | null> {
    const list = await this.client.json<SwarmService[]>({
      path: '/services',
      query: { filters: JSON.stringify({ name: [name] }) },
    });
    return list.find((x) => x.Spec.Name === name)?.ID ?? null;
  }

  inspectService(id: string): Promise<SwarmService> {
    return retrying(() =>
      this.client.json<SwarmService>({ path: `/services/${encodeURIComponent(id)}` }),
    );
  }

  /** Versioned: a retry after an applied update fails with "update out of sequence". */
  async updateService(id: string, version: number, spec: ServiceSpec): Promise<void> {
    await retrying(() =>
      this.client.request({
        method: 'POST',
        path: `/services/${encodeURIComponent(id)}/update`,
        query: { version },
        body: spec,
      }),
    );
  }

  async removeService(id: string): Promise<void> {
    await retrying(() =>
      this.client.request({ method: 'DELETE', path: `/services/${encodeURIComponent(id)}` }),
    );
  }

  services(labels: LabelSelector): Promise<SwarmService[]> {
    return retrying(() =>
      this.client.json<SwarmService[]>({
        path: '/services',
        query: { filters: JSON.stringify({ label: labelFilters(labels) }) },
      }),
    );
  }

  tasks(filters: { service?: string[]; label?: string[] }): Promise<SwarmTask[]> {
    return retrying(() =>
      this.client.json<SwarmTask[]>({
        path: '/tasks',
        query: { filters: JSON.stringify(filters) },
      }),
    );
  }

  async secretId(name: string): Promise<string | null> {
    const list = await this.client.json<{ ID: string; Spec: { Name: string } }[]>({
      path: '/secrets',
      query: { filters: JSON.stringify({ name: [name] }) },
    });
    return list.find((s) => s.Spec.Name === name)?.ID ?? null;
  }

  async createSecret(name: string, data: string, labels: Record<string, string>): Promise<string> {
    const r = await this.client.json<{ ID: string }>({
      method: 'POST',
      path: '/secrets/create',
      body: { Name: name, Data: Buffer.from(data).toString('base64'), Labels: labels },
    });
    return r.ID;
  }

  /** The manifest digest the registry gives for a reference (the manager asks the registry). */
  async distribution(image: string): Promise<{ Descriptor: { digest: string } }> {
    return this.client.json({
      path: `/distribution/${image}/json`,
      notFound: 'IMAGE_NOT_FOUND',
    });
  }
}

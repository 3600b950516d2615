// The Swarm endpoints of the Engine API that the Swarm backend uses, typed to the fields it
// reads: info (is this a manager?), nodes, networks, services, tasks, secrets, distribution.
// The transport (and its error mapping) is the Docker backend's DockerClient.
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
      Mounts?: { Type: string; Source?: string; Target: string; ReadOnly?: boolean }[];
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

export class SwarmApi {
  constructor(readonly client: DockerClient) {}

  info(): Promise<SwarmInfo> {
    return this.client.json<SwarmInfo>({ path: '/info' });
  }

  nodes(): Promise<SwarmNode[]> {
    return this.client.json<SwarmNode[]>({ path: '/nodes' });
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

  async createService(spec: ServiceSpec): Promise<string> {
    const r = await this.client.json<{ ID: string }>({
      method: 'POST',
      path: '/services/create',
      body: spec,
    });
    return r.ID;
  }

  inspectService(id: string): Promise<SwarmService> {
    return this.client.json<SwarmService>({ path: `/services/${encodeURIComponent(id)}` });
  }

  async updateService(id: string, version: number, spec: ServiceSpec): Promise<void> {
    await this.client.request({
      method: 'POST',
      path: `/services/${encodeURIComponent(id)}/update`,
      query: { version },
      body: spec,
    });
  }

  async removeService(id: string): Promise<void> {
    await this.client.request({ method: 'DELETE', path: `/services/${encodeURIComponent(id)}` });
  }

  services(labels: LabelSelector): Promise<SwarmService[]> {
    return this.client.json<SwarmService[]>({
      path: '/services',
      query: { filters: JSON.stringify({ label: labelFilters(labels) }) },
    });
  }

  tasks(filters: { service?: string[]; label?: string[] }): Promise<SwarmTask[]> {
    return this.client.json<SwarmTask[]>({
      path: '/tasks',
      query: { filters: JSON.stringify(filters) },
    });
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

// Roles and what each may do. Three levels, each including the one below: a viewer reads, a
// deployer also changes the services it is scoped to, an admin does everything (tokens, policy,
// down, the proxy, shutdown).
import type { TokenRole } from '../store/index.js';

export type Role = TokenRole;
export const ROLES: readonly Role[] = ['viewer', 'deployer', 'admin'];

/** What an endpoint needs. `public` needs no token at all. */
export type Permission = 'public' | 'read' | 'deploy' | 'admin';

const LEVEL: Record<Role, number> = { viewer: 1, deployer: 2, admin: 3 };
const NEEDED: Record<Permission, number> = { public: 0, read: 1, deploy: 2, admin: 3 };

export function roleAllows(role: Role, permission: Permission): boolean {
  return LEVEL[role] >= NEEDED[permission];
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

import type { Command } from 'commander';
import type { TokenInfo } from '../security/index.js';
import { roleTable } from '../security/rules.js';
import { globals, READ_ONLY, withApi } from './context.js';
import { print, printJson, table } from './output.js';

export function register(program: Command): void {
  const token = program
    .command('token')
    .description('API tokens for the remote API: create, list, revoke (admin)');

  token
    .command('create')
    .description('create a token; it is printed once, the daemon keeps only its hash')
    .requiredOption('--role <role>', 'viewer, deployer or admin')
    .option('--services <list>', 'deployer only: the services it may change, comma-separated')
    .option('--expires <duration>', 'lifetime, e.g. 30d, 12h, 2w (default: no expiry)')
    .option('--name <name>', 'a name for audit and revoke (default <role>-<id>)')
    .action(
      async (
        opts: { role: string; services?: string; expires?: string; name?: string },
        cmd: Command,
      ) => {
        const body = {
          role: opts.role,
          services: opts.services
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          expires: opts.expires,
          name: opts.name,
        };
        const r = await withApi(cmd, (api) =>
          api.json<{ token: string; info: TokenInfo }>('POST', '/v1/tokens', body),
        );
        if (globals(cmd).json) return printJson(r);
        print(r.token);
        process.stderr.write(
          `token "${r.info.name}" (${r.info.role}${r.info.services ? ` of ${r.info.services.join(', ')}` : ''}` +
            `${r.info.expiresAt ? `, expires ${r.info.expiresAt}` : ''}): shown once, store it now\n`,
        );
      },
    );

  token
    .command('list')
    .description('list tokens (never their secrets)')
    .action(async (_opts: unknown, cmd: Command) => {
      const r = await withApi(
        cmd,
        (api) => api.json<{ tokens: TokenInfo[] }>('GET', '/v1/tokens'),
        READ_ONLY,
      );
      if (globals(cmd).json) return printJson(r);
      print(
        table(
          ['ID', 'NAME', 'ROLE', 'SERVICES', 'STATE', 'EXPIRES', 'CREATED', 'BY'],
          r.tokens.map((t) => [
            t.id,
            t.name,
            t.role,
            t.services?.join(',') ?? '*',
            t.state,
            t.expiresAt ?? '-',
            t.createdAt,
            t.createdBy,
          ]),
        ),
      );
    });

  token
    .command('revoke')
    .description('revoke a token by id or name; it is refused from then on')
    .argument('<id-or-name>', 'token id or name')
    .action(async (idOrName: string, _opts: unknown, cmd: Command) => {
      const r = await withApi(cmd, (api) =>
        api.json<{ token: TokenInfo }>(
          'POST',
          `/v1/tokens/${encodeURIComponent(idOrName)}/revoke`,
          {},
        ),
      );
      if (globals(cmd).json) return printJson(r);
      print(`revoked token "${r.token.name}" (${r.token.id})`);
    });

  token
    .command('roles')
    .description('print which role may call which API endpoint (from the code)')
    .action(() => print(roleTable()));
}

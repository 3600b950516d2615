#!/usr/bin/env node
// hotswap's command line: parse, call the daemon's API, render. Exit codes come from the error
// catalog (src/errors.ts): 2 bad input, 3 rollout failed, 4 not found, 5 busy, 6 engine/daemon.
import { Command, CommanderError } from 'commander';
import { HotswapError, toHotswapError } from '../errors.js';
import { VERSION } from '../version.js';
import * as diff from './diff.js';
import * as doctor from './doctor.js';
import * as down from './down.js';
import * as history from './history.js';
import * as logs from './logs.js';
import * as processes from './processes.js';
import * as restart from './restart.js';
import * as reload from './reload.js';
import * as scale from './scale.js';
import * as rollback from './rollback.js';
import * as rollout from './rollout.js';
import * as status from './status.js';
import * as up from './up.js';
import * as validate from './validate.js';
import * as token from './token.js';
import * as audit from './audit.js';
import * as policy from './policy.js';
import * as reportVerb from './report.js';
import * as assess from './assess.js';
import * as alertVerbs from './alerts.js';

function buildProgram(): Command {
  const program = new Command('hotswap')
    .description("zero-downtime updates of containerized services behind hotswap's own proxy")
    .version(VERSION)
    .option('--json', 'machine-readable output (NDJSON events for long operations)')
    .option('--home <dir>', 'state directory (env HOTSWAP_HOME, default ~/.hotswap)')
    .option('--host <url>', 'a remote daemon, https://host:port (env HOTSWAP_HOST)')
    .option('--token <token>', 'API token for --host (env HOTSWAP_TOKEN)')
    .option(
      '--fingerprint <sha256>',
      "pin the remote daemon's certificate (env HOTSWAP_FINGERPRINT)",
    )
    .option(
      '--ca <file>',
      "CA certificate file for the remote daemon's certificate (env HOTSWAP_CA)",
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 internal error, 2 bad input (spec, flags), 3 rollout failed (old revision kept),\n' +
        '4 not found (service, revision, image), 5 busy (another operation on the service), 6 engine/daemon/proxy unavailable, 7 timeout,\n' +
        '8 not allowed (missing, invalid or expired token; role too low), 9 audit chain broken, 10 refused by the container policy, 11 image refused by the image policy',
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    // --json and --home are global: every verb's help shows them.
    .configureHelp({ showGlobalOptions: true });
  for (const verb of [
    up,
    diff,
    status,
    history,
    rollback,
    restart,
    reload,
    scale,
    rollout,
    logs,
    down,
    validate,
    processes,
    token,
    audit,
    policy,
    reportVerb,
    assess,
    alertVerbs,
    doctor,
  ])
    verb.register(program);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

function report(err: HotswapError, json: boolean): void {
  if (json) process.stdout.write(JSON.stringify({ error: err.toJSON() }) + '\n');
  else process.stderr.write(`hotswap: ${err.code}: ${err.message}\n`);
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      const ok =
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help';
      if (ok) return 0;
      // A usage error under --json is a JSON error too, so a script parses one shape.
      if (json) report(new HotswapError('USAGE', err.message.replace(/^error: /, '')), true);
      return 2;
    }
    const e = toHotswapError(err);
    report(e, json);
    // A verb that timed out may still hold a stream to the daemon open: leave now.
    if (e.code === 'TIMEOUT') process.exit(e.exitCode);
    return e.exitCode;
  }
}

process.exitCode = await main(process.argv);

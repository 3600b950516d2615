import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RolloutAction } from '../controller/index.js';
import type { JournalEntry, RolloutRecord, StepRecord } from '../store/index.js';
import { HotswapError } from '../errors.js';
import { globals, READ_ONLY, withApi } from './context.js';
import * as rollback from './rollback.js';
import { parseRevision } from './rollback.js';
import { addTimeoutOption, withTimeout } from './timeout.js';
import { print, printJson } from './output.js';

interface RolloutStatus {
  rollout: RolloutRecord | null;
  steps: StepRecord[];
  events: JournalEntry[];
  active: boolean;
  paused: boolean;
}

const WATCH_POLL_MS = 300;

export function register(program: Command): void {
  const verbs: Array<[string, RolloutAction, string]> = [
    [
      'promote',
      'promote',
      'end the current pause of a rollout (with --full: skip every remaining step)',
    ],
    [
      'abort',
      'abort',
      'abort a rollout: all traffic back to stable at once, the new instances drained and removed',
    ],
    ['pause', 'pause', 'hold a rollout after its current step'],
    ['resume', 'resume', 'let a paused rollout go on'],
  ];
  for (const [name, action, description] of verbs) {
    const cmd = program
      .command(name)
      .description(description)
      .argument('<service>', 'service name');
    if (name === 'promote') cmd.option('--full', 'promote fully now, skipping the remaining steps');
    cmd.action(async (service: string, opts: { full?: boolean }, c: Command) => {
      const chosen = opts.full ? 'promote-full' : action;
      const r = await withApi(
        c,
        (api) =>
          api.json<{ rolloutId: number; warning?: string }>(
            'POST',
            `/v1/services/${encodeURIComponent(service)}/rollout/${chosen}`,
            {},
          ),
        // Without a daemon there is no rollout to abort: starting one would only answer that.
        action === 'abort' ? READ_ONLY : true,
      );
      if (globals(c).json) return printJson(r);
      print(`${service}: ${chosen} sent to rollout #${r.rolloutId}`);
      if (r.warning) print(`WARNING: ${r.warning}`);
    });
  }

  const rollout = program.command('rollout').description('rollout commands: status, undo');
  const status = rollout
    .command('status')
    .description(
      'the latest rollout of a service: steps, weights and verdicts (--watch: exit code 3 if it fails or is undone)',
    )
    .argument('<service>', 'service name')
    .option('-w, --watch', 'follow the rollout live until it ends');
  addTimeoutOption(status).action(
    async (service: string, opts: { watch?: boolean; timeout?: number }, cmd: Command) => {
      const json = globals(cmd).json;
      const ended = await withTimeout(opts.timeout, `watching the rollout of ${service}`, () =>
        withApi(
          cmd,
          async (api) => {
            const path = `/v1/services/${encodeURIComponent(service)}/rollout`;
            let status = await api.json<RolloutStatus>('GET', path);
            if (!opts.watch) return json ? printJson(status) : printStatus(status);
            let seen = 0;
            for (;;) {
              for (const e of status.events.filter((x) => x.seq > seen)) {
                print(json ? JSON.stringify(e) : `${e.at.slice(11, 19)} ${message(e)}`);
                seen = e.seq;
              }
              if (!status.active) break;
              await sleep(WATCH_POLL_MS);
              status = await api.json<RolloutStatus>('GET', path);
            }
            if (!json && status.rollout)
              print(
                `rollout #${status.rollout.id} ${status.rollout.status}${status.rollout.reason ? `: ${status.rollout.reason}` : ''}`,
              );
            return status.rollout;
          },
          READ_ONLY,
        ),
      );
      // A script waiting on a rollout must learn that it did not go through.
      if (ended && (ended.status === 'failed' || ended.status === 'rolled-back')) {
        const why = ended.reason ? `: ${ended.reason}` : '';
        throw new HotswapError(
          'ROLLOUT_FAILED',
          `rollout #${ended.id} of ${service} ${ended.status}${why}`,
          {
            details: { rollout: ended },
          },
        );
      }
    },
  );

  const undo = rollout
    .command('undo')
    .description('same as `hotswap rollback`: back to the previous revision (or --to N)')
    .argument('<service>', 'service name')
    .option('--to <revision>', 'revision number to return to', (v) => parseRevision(v));
  addTimeoutOption(undo).action(rollback.run);
}

function message(e: JournalEntry): string {
  const data = e.data as {
    message?: string;
    reasons?: string[];
    result?: string;
    weights?: unknown;
  };
  if (e.event === 'analysis.verdict' || e.event === 'watch.verdict')
    return `${e.event === 'watch.verdict' ? 'watch ' : ''}verdict ${data.result}: ${(data.reasons ?? []).join('; ')}`;
  if (e.event.startsWith('watch.')) return watchMessage(e.event, e.data as Record<string, unknown>);
  if (e.event === 'weights.set') return `weights ${JSON.stringify(data.weights)}`;
  return data.message ?? e.event;
}

function watchMessage(event: string, d: Record<string, unknown>): string {
  const str = (k: string): string => String(d[k]);
  switch (event) {
    case 'watch.started':
      return `watch after promotion: r${str('revision')} until ${str('endsAt')}`;
    case 'watch.failed':
    case 'watch.cancelled':
      return `${event}: ${str('reason')}`;
    case 'watch.rolledback':
      return `watch rolled back by rollout #${str('rolloutId')}: ${str('outcome')}${d['instant'] ? ` (instant, ${str('flipMs')} ms)` : ''}`;
    case 'watch.baseline':
      return `watch baseline: ${str('requests')} requests, ${str('errors')} errors over ${str('windowMs')} ms`;
    case 'watch.passed':
    case 'watch.inconclusive':
      return `${event} (${str('judgements')} judgement(s))`;
    default:
      return `${event}: ${str('reason') === 'undefined' ? str('message') : str('reason')}`;
  }
}

function printStatus(s: RolloutStatus): void {
  if (!s.rollout) return print('no rollout yet');
  const r = s.rollout;
  print(
    `rollout #${r.id} ${r.kind} r${r.fromRevision ?? '-'} → r${r.toRevision} (${r.strategy}): ${r.status}${s.paused ? ' (paused)' : ''}${r.reason ? ` — ${r.reason}` : ''}`,
  );
  for (const step of s.steps)
    print(`  ${step.seq}. ${step.kind} ${JSON.stringify(step.detail)} ${step.status}`);
  // The verdicts, then the watch after promotion (strategy.postPromotion) as it goes.
  const shown =
    /^(analysis\.verdict|watch\.(verdict|started|passed|inconclusive|failed|rolledback|cancelled))$/;
  for (const e of s.events.filter((x) => shown.test(x.event))) print(`  ${message(e)}`);
}

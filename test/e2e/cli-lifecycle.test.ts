// Issue 13, item 5: the daemon's lifecycle as the CLI shows it. Read-only verbs and bad flags
// never start a daemon; a daemon that cannot start says why at once (not after a 20 s wait);
// a home whose socket paths are too long is refused before anything starts.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { MAX_SOCKET_PATH_BYTES } from '../../src/daemon/paths.js';
import { hotswap } from '../helpers/cli.js';

/** Runs the CLI with extra environment (hotswap() passes process.env). */
async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function daemonsOf(home: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(home);
      } catch {
        return false;
      }
    })
    .map(Number);
}

const freshHome = (): string => mkdtempSync(join(tmpdir(), 'hotswap-cli-'));

describe('daemon lifecycle from the CLI', () => {
  test('read-only verbs never start a daemon: exit 6, "no hotswap daemon is running"', async () => {
    const home = freshHome();
    const verbs = [
      ['status'],
      ['history', 'web'],
      ['logs', 'web'],
      ['rollout', 'status', 'web'],
      ['rollout', 'status', 'web', '--watch'],
      ['abort', 'web'],
      ['proxy', 'status'],
    ];
    for (const args of verbs) {
      const r = await hotswap(home, args);
      assert.equal(r.code, 6, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(
        r.stderr,
        `hotswap: DAEMON_UNAVAILABLE: no hotswap daemon is running for ${home} ` +
          '(nothing to show or act on; `hotswap up` starts one)\n',
      );
      assert.equal(r.stdout, '');
    }
    const json = await hotswap(home, ['status', '--json']);
    assert.equal(json.code, 6);
    const err = (JSON.parse(json.stdout) as { error: { code: string; details: unknown } }).error;
    assert.equal(err.code, 'DAEMON_UNAVAILABLE');
    assert.deepEqual(err.details, { home, running: false });
    assert.deepEqual(readdirSync(home), [], 'nothing was created in the home');
    assert.deepEqual(daemonsOf(home), []);
  });

  test('a verb with a bad flag never starts a daemon: exit 2', async () => {
    const home = freshHome();
    const r = await hotswap(home, ['logs', 'web', '-n', 'abc']);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      "error: option '-n, --tail <lines>' argument 'abc' is invalid. expected a non-negative integer.\n",
    );
    const unknown = await hotswap(home, ['up', '--no-such-flag']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--no-such-flag'/);
    assert.deepEqual(readdirSync(home), []);
    assert.deepEqual(daemonsOf(home), []);
  });

  test('a home too long for unix sockets is refused before anything starts', async () => {
    const base = freshHome();
    const home = join(base, 'h'.repeat(MAX_SOCKET_PATH_BYTES - base.length));
    const r = await hotswap(home, ['pause', 'web']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `^hotswap: USAGE: the home ${home} is too long: its unix sockets \\(such as ` +
          `${home}/\\.ctl-4194304\\.sock, \\d+ bytes\\) exceed the system's limit of ` +
          `${MAX_SOCKET_PATH_BYTES} bytes; choose a home of at most \\d+ bytes ` +
          '\\(--home or HOTSWAP_HOME\\)\n$',
      ),
    );
    assert.ok(r.ms < 5_000, `${r.ms} ms`);
    assert.equal(existsSync(home), false, 'the home was not created');
  });

  test('an unusable DOCKER_HOST is reported at once by the daemon that could not start', async () => {
    for (const [host, message] of [
      [
        'unix:///nonexistent/docker.sock',
        /cannot reach the Docker Engine at \/nonexistent\/docker\.sock \(ENOENT\)/,
      ],
      ['ssh://user@host', /DOCKER_HOST=ssh:\/\/user@host is not supported/],
    ] as const) {
      const home = freshHome();
      const r = await withEnv({ DOCKER_HOST: host }, () => hotswap(home, ['pause', 'web']));
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /^hotswap: DOCKER_UNAVAILABLE: the daemon could not start: /);
      assert.match(r.stderr, message);
      assert.ok(r.ms < 5_000, `answered in ${r.ms} ms`);
      assert.match(readFileSync(join(home, 'daemon.log'), 'utf8'), /daemon: cannot start:/);
      assert.deepEqual(daemonsOf(home), [], 'no daemon is left behind');
    }
  });

  test('daemon install writes (or prints) a systemd unit for this home', async () => {
    const home = freshHome();
    const printed = await hotswap(home, ['daemon', 'install', '--print']);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(
      printed.stdout,
      // node, the daemon's V8 flags (src/daemon/node-flags.ts), the CLI, the verb and the home.
      new RegExp(`^ExecStart=\\S+ (--\\S+ )*\\S+/main\\.js daemon --home ${home}$`, 'm'),
    );
    assert.match(printed.stdout, /^ExecStart=\S+ --max-semi-space-size=1 /m);
    assert.match(printed.stdout, /^Environment=MALLOC_ARENA_MAX=2$/m);
    assert.match(printed.stdout, /^KillMode=process$/m);
    assert.match(printed.stdout, /^Restart=always$/m);
    const config = freshHome();
    const written = await withEnv({ XDG_CONFIG_HOME: config }, () =>
      hotswap(home, ['daemon', 'install', '--user']),
    );
    assert.equal(written.code, 0, written.stderr);
    const [, path] =
      /^wrote (\S+); to start it now and at every boot:$/m.exec(written.stdout) ?? [];
    // hotswap.service: the helper sets HOTSWAP_HOME, so this home is the default one.
    assert.equal(path, join(config, 'systemd', 'user', 'hotswap.service'));
    assert.equal(
      readFileSync(path, 'utf8'),
      printed.stdout
        .replace(/WantedBy=.*/, 'WantedBy=default.target')
        .replace(/^After=.*\n^Wants=.*\n/m, ''),
    );
    assert.match(written.stdout, /^ {2}systemctl --user enable --now hotswap\.service$/m);
    assert.deepEqual(daemonsOf(home), []);
  });

  test('a daemon that fails at start (corrupt hotswap.db) gives its reason at once', async () => {
    const home = freshHome();
    writeFileSync(join(home, 'hotswap.db'), 'this is not a SQLite database, '.repeat(10));
    const r = await hotswap(home, ['pause', 'web']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the daemon could not start: .*file is not a database/);
    assert.ok(r.ms < 5_000, `answered in ${r.ms} ms`);
    assert.deepEqual(daemonsOf(home), []);
  });
});

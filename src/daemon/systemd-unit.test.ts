import assert from 'node:assert/strict';
import { test } from 'node:test';
import { homePaths } from './paths.js';
import { systemdUnit } from './systemd-unit.js';

test('a system unit: after docker, restarts, kills only the daemon, engine env carried over', () => {
  const paths = homePaths('/srv/hotswap');
  const unit = systemdUnit({
    paths,
    node: '/usr/bin/node',
    main: '/opt/hotswap/dist/src/cli/main.js',
    user: false,
    env: { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1', PATH: '/bin' },
  });
  assert.equal(unit.name, `hotswap-${paths.scope}.service`);
  assert.equal(unit.path, `/etc/systemd/system/hotswap-${paths.scope}.service`);
  assert.equal(
    unit.text,
    `[Unit]
Description=hotswap daemon (home /srv/hotswap)
After=docker.service network-online.target
Wants=docker.service

[Service]
Type=simple
ExecStart=/usr/bin/node --max-semi-space-size=1 /opt/hotswap/dist/src/cli/main.js daemon --home /srv/hotswap
Environment=HOTSWAP_HOME=/srv/hotswap
Environment=DOCKER_HOST=tcp://127.0.0.1:2376
Environment=DOCKER_TLS_VERIFY=1
Environment=MALLOC_ARENA_MAX=2
Restart=always
RestartSec=2
KillMode=process
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
`,
  );
  assert.deepEqual(unit.enable, [
    'systemctl daemon-reload',
    `systemctl enable --now hotswap-${paths.scope}.service`,
  ]);
});

test('a user unit with a home that needs quoting', () => {
  const unit = systemdUnit({
    paths: homePaths('/home/me/my $hot%swap'),
    node: '/usr/bin/node',
    main: '/m.js',
    user: true,
    env: { XDG_CONFIG_HOME: '/home/me/.config', USER: 'me' },
  });
  assert.ok(unit.path.startsWith('/home/me/.config/systemd/user/hotswap-'));
  assert.match(
    unit.text,
    /^ExecStart=\/usr\/bin\/node --max-semi-space-size=1 \/m\.js daemon --home "\/home\/me\/my \$\$hot%%swap"$/m,
  );
  assert.match(unit.text, /^Environment="HOTSWAP_HOME=\/home\/me\/my \$hot%%swap"$/m);
  assert.match(unit.text, /^WantedBy=default\.target$/m);
  assert.doesNotMatch(unit.text, /After=docker\.service/);
  assert.deepEqual(unit.enable.at(-1), 'loginctl enable-linger me');
});

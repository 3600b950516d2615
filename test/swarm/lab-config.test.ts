// The lab's names and addresses from the env (pure; no lab needed), so two labs never clash.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labConfig, labNode, repoAndTag } from '../helpers/lab.js';

test('defaults: prefix hsl, subnet 10.77.0, three managers with their own paths', () => {
  const c = labConfig({});
  assert.equal(c.hubNetns, 'hsl-hub');
  assert.equal(c.registry, '10.77.0.2:5000');
  assert.equal(c.rootAddress, '10.77.0.1');
  assert.deepEqual(
    c.nodes.map((n) => [n.netns, n.address, n.hubLink, n.cgroupParent]),
    [
      ['hsl-n1', '10.77.0.11', 'hsl-n1p', 'hsl-node1'],
      ['hsl-n2', '10.77.0.12', 'hsl-n2p', 'hsl-node2'],
      ['hsl-n3', '10.77.0.13', 'hsl-n3p', 'hsl-node3'],
    ],
  );
  assert.equal(c.managers, 3);
  assert.equal(labNode(c, 2).dockerHost, 'unix:///tmp/hotswap-lab-hsl/node2/docker.sock');
});

test('two labs share no name, address or path', () => {
  const a = labConfig({ HOTSWAP_LAB_PREFIX: 'hslA', HOTSWAP_LAB_SUBNET: '10.78.0' });
  const b = labConfig({ HOTSWAP_LAB_PREFIX: 'hslB', HOTSWAP_LAB_SUBNET: '10.79.0' });
  const names = (c: typeof a) => [
    c.hubNetns,
    c.bridge,
    c.rootLink,
    c.dir,
    c.registry,
    ...c.nodes.flatMap((n) => [n.netns, n.address, n.dir, n.cgroupParent, n.hubLink]),
  ];
  const shared = names(a).filter((x) => names(b).includes(x));
  assert.deepEqual(shared, []);
  // Linux link names: at most 15 characters, even with the longest prefix.
  const long = labConfig({ HOTSWAP_LAB_PREFIX: 'abcdefgh' });
  for (const link of [
    long.rootLink,
    long.rootPeer,
    long.bridge,
    ...long.nodes.map((n) => n.hubLink),
  ]) {
    assert.ok(link.length <= 15, link);
  }
});

test('bad settings are refused with the variable named', () => {
  assert.throws(() => labConfig({ HOTSWAP_LAB_PREFIX: 'a-b' }), /HOTSWAP_LAB_PREFIX=a-b/);
  assert.throws(() => labConfig({ HOTSWAP_LAB_PREFIX: 'abcdefghi' }), /HOTSWAP_LAB_PREFIX/);
  assert.throws(() => labConfig({ HOTSWAP_LAB_SUBNET: '10.77' }), /HOTSWAP_LAB_SUBNET=10.77/);
  assert.throws(() => labConfig({ HOTSWAP_LAB_SUBNET: '10.300.0' }), /HOTSWAP_LAB_SUBNET/);
  assert.throws(() => labConfig({ HOTSWAP_LAB_NODES: '0' }), /HOTSWAP_LAB_NODES=0/);
  assert.throws(() => labNode(labConfig({}), 4), /nodes 1\.\.3/);
});

test('pushed names keep repo and tag, without a registry host', () => {
  assert.deepEqual(repoAndTag('hotswap-fixture:v1'), { repo: 'hotswap-fixture', tag: 'v1' });
  assert.deepEqual(repoAndTag('app'), { repo: 'app', tag: 'latest' });
  assert.deepEqual(repoAndTag('localhost:5000/team/app:2'), { repo: 'team/app', tag: '2' });
  assert.deepEqual(repoAndTag('team/app'), { repo: 'team/app', tag: 'latest' });
});

// direct-io.ts on real loopback sockets: both ClientIO variants (the handle and the streams) keep
// the same contract: bytes in order, backpressure and drain, pause/resume, the peer's FIN, end(),
// and handOff() giving the socket back to its streams with nothing lost.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import {
  DIRECT_IO,
  DirectSocket,
  DirectWriter,
  StreamSocket,
  canGoDirect,
  isTransient,
  owned,
  type ClientIO,
  type DirectReader,
} from './direct-io.js';

type Make = (socket: net.Socket, reader: DirectReader) => ClientIO;

/** `io`, reporting to `reader`. */
function attached(io: ClientIO, reader: DirectReader): ClientIO {
  io.attach(reader);
  return io;
}

const VARIANTS: Array<[string, Make]> = [
  ['DirectSocket', (s, r) => attached(new DirectSocket(s), r)],
  ['StreamSocket', (s, r) => attached(new StreamSocket(s), r)],
];

interface Pair {
  /** The accepted side, wrapped. */
  io: ClientIO;
  server: net.Socket;
  /** The connecting side, a plain socket. */
  peer: net.Socket;
  received: Buffer[];
  events: string[];
  close(): void;
}

async function pair(make: Make, onDrain: () => void = () => undefined): Promise<Pair> {
  const received: Buffer[] = [];
  const events: string[] = [];
  const reader: DirectReader = {
    // The reader's contract: what it keeps goes through owned().
    onBytes: (chunk) => received.push(owned(chunk)),
    onEof: () => events.push('eof'),
    onClose: () => events.push('reader-close'),
    onDrain,
  };
  const listener = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const port = (listener.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const peer = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const server = await accepted;
  server.on('error', () => undefined);
  peer.on('error', () => undefined);
  server.on('close', () => events.push('close'));
  const io = make(server, reader);
  return {
    io,
    server,
    peer,
    received,
    events,
    close: () => {
      peer.destroy();
      server.destroy();
      listener.close();
    },
  };
}

function until(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

function readAll(socket: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => socket.once('end', () => resolve(Buffer.concat(chunks))));
}

test('this Node has the binding: accepted sockets go direct', async () => {
  assert.equal(DIRECT_IO, process.env.HOTSWAP_DIRECT_IO !== '0');
  const p = await pair((s, r) => attached(new StreamSocket(s), r));
  try {
    assert.equal(canGoDirect(p.server), DIRECT_IO);
  } finally {
    p.close();
  }
});

const skipDirect = (name: string): string | false =>
  name === 'DirectSocket' && !DIRECT_IO && 'no stream_wrap binding in this process';

for (const [name, make] of VARIANTS) {
  test(
    `${name}: bytes both ways in order, the peer's FIN, and end() closing the socket`,
    { skip: skipDirect(name) },
    async () => {
      const p = await pair(make);
      try {
        const peerGot = readAll(p.peer);
        p.peer.write('one ');
        p.peer.write('two');
        await until(() => Buffer.concat(p.received).toString() === 'one two', 'the bytes');
        assert.equal(p.io.write('back '), true);
        assert.equal(p.io.write(Buffer.from('again')), true);
        p.peer.end();
        await until(() => p.events.includes('eof'), 'eof');
        p.io.end();
        assert.equal((await peerGot).toString(), 'back again');
        await until(() => p.events.includes('close'), 'the socket closing after end()');
        await until(() => p.events.includes('reader-close'), 'the reader told of the close');
      } finally {
        p.close();
      }
    },
  );

  test(
    `${name}: a write past the high-water mark returns false, and onDrain follows`,
    { skip: skipDirect(name) },
    async () => {
      let drained = 0;
      const p = await pair(make, () => drained++);
      try {
        p.peer.pause();
        const big = Buffer.alloc(8 * 1024 * 1024, 'x');
        assert.equal(p.io.write(big), false, 'the kernel cannot take 8 MiB at once');
        assert.equal(drained, 0);
        let got = 0;
        p.peer.on('data', (c: Buffer) => (got += c.length));
        p.peer.resume();
        await until(() => drained === 1, 'drain');
        await until(() => got === big.length, 'every byte');
      } finally {
        p.close();
      }
    },
  );

  test(`${name}: pause() stops delivery until resume()`, { skip: skipDirect(name) }, async () => {
    const p = await pair(make);
    try {
      p.io.pause();
      p.peer.write('held');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(p.received.length, 0, 'nothing delivered while paused');
      p.io.resume();
      await until(() => Buffer.concat(p.received).toString() === 'held', 'the held bytes');
    } finally {
      p.close();
    }
  });

  test(
    `${name}: handOff() gives the socket to its streams with the unread bytes first`,
    { skip: skipDirect(name) },
    async () => {
      const p = await pair(make);
      try {
        p.peer.write('first');
        await until(() => p.received.length > 0, 'the first bytes');
        let socket: net.Socket | null = null;
        p.io.handOff(Buffer.concat(p.received), (s) => (socket = s));
        assert.equal(socket, p.server, 'handed at once');
        const later: Buffer[] = [];
        p.server.on('data', (c: Buffer) => later.push(c));
        p.server.resume();
        p.peer.write(' second');
        await until(() => Buffer.concat(later).toString() === 'first second', 'stream reads');
        assert.equal(Buffer.concat(p.received).toString(), 'first', 'the reader got no more');
        p.server.write('via stream');
        const echo = await new Promise<string>((resolve) =>
          p.peer.once('data', (c: Buffer) => resolve(c.toString())),
        );
        assert.equal(echo, 'via stream');
      } finally {
        p.close();
      }
    },
  );
}

test(
  'DirectWriter: a failed write destroys the socket with the error; later writes are no-ops',
  {
    skip: !DIRECT_IO && 'no stream_wrap binding in this process',
  },
  async () => {
    const p = await pair((s, r) => attached(new StreamSocket(s), r));
    try {
      const errors: string[] = [];
      p.server.on('error', (err: NodeJS.ErrnoException) => errors.push(err.code ?? err.message));
      const writer = new DirectWriter(p.server, () => undefined);
      // After our FIN the handle refuses writes (EPIPE), synchronously.
      await new Promise<void>((resolve) => p.server.end(resolve));
      assert.equal(p.server.destroyed, false);
      writer.write(Buffer.from('too late'));
      await until(() => p.server.destroyed, 'the socket destroyed');
      await until(() => errors.length > 0, 'the error event');
      assert.deepEqual(errors, ['EPIPE']);
      assert.equal(
        writer.write(Buffer.from('after')),
        true,
        'a destroyed socket takes writes as no-ops',
      );
    } finally {
      p.close();
    }
  },
);

test(
  'DirectSocket: reads land in one shared buffer; owned() copies what a reader keeps',
  { skip: !DIRECT_IO && 'no stream_wrap binding in this process' },
  async () => {
    const views: Buffer[] = [];
    const copies: Buffer[] = [];
    const make: Make = (s, r) =>
      attached(new DirectSocket(s), {
        ...r,
        onBytes: (chunk) => {
          views.push(chunk);
          copies.push(owned(chunk));
        },
      });
    const p = await pair(make);
    try {
      p.peer.write('AAAA');
      await until(() => copies.length === 1, 'the first read');
      p.peer.write('BB');
      await until(() => copies.length === 2, 'the second read');
      assert.equal(isTransient(views[0]!), true, 'a read is a view of the shared buffer');
      assert.equal(isTransient(copies[0]!), false);
      assert.deepEqual(
        copies.map((c) => c.toString()),
        ['AAAA', 'BB'],
      );
      // The second read overwrote the first view: why a reader must not keep views.
      assert.equal(views[0]!.toString(), 'BBAA');
    } finally {
      p.close();
    }
  },
);

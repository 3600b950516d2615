// The remote API: the same hono app as the unix socket, served over TCP with TLS only. Every
// request there needs a token (src/api/auth.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { HotswapError } from '../errors.js';
import type { RemoteApiConfig } from './config.js';
import { selfSignedCertificate } from './x509.js';

export interface RemoteListener {
  server: Server;
  url: string;
  fingerprint256: string;
}

type Fetch = (req: Request, env?: object) => Response | Promise<Response>;

export async function listenRemote(
  config: RemoteApiConfig,
  home: string,
  fetch: Fetch,
): Promise<RemoteListener> {
  const tls = config.tls ?? selfSigned(home, config.listen.host);
  const cert = readPem(tls.cert, 'certificate');
  const key = readPem(tls.key, 'private key');
  const server = createAdaptorServer({
    fetch,
    createServer,
    serverOptions: { cert, key, minVersion: 'TLSv1.2' },
  }) as Server;
  const host = config.listen.host.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new HotswapError(
          'INTERNAL',
          `cannot listen on ${config.listen.host}:${config.listen.port}: ${err.message}`,
        ),
      ),
    );
    server.listen(config.listen.port, host, resolve);
  });
  return {
    server,
    url: `https://${config.listen.host}:${config.listen.port}`,
    fingerprint256: new X509Certificate(cert).fingerprint256,
  };
}

/** The home's self-signed certificate, made on first use and kept (so its pin stays valid). */
function selfSigned(home: string, listenHost: string): { cert: string; key: string } {
  const dir = join(home, 'api-tls'); // <home>/tls holds the services' ACME certificates
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  if (existsSync(files.cert) && existsSync(files.key)) return files;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const names = ['localhost', '127.0.0.1', hostname(), listenHost.replace(/^\[|\]$/g, '')];
  const made = selfSignedCertificate(names.filter((n) => n && !n.includes(':') && n !== '0.0.0.0'));
  writeFileSync(files.key, made.keyPem, { mode: 0o600 });
  writeFileSync(files.cert, made.certPem);
  return files;
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new HotswapError(
      'USAGE',
      `cannot read the TLS ${what} ${file}: ${(err as Error).message}`,
    );
  }
}

// The plain HTTP listener of TLS services (`tls.redirect`): every request is sent to its https
// URL with a 308 (method and body kept), except ACME HTTP-01 challenges, which it answers with
// the key authorization the daemon set on the proxy (an ACME server connects here, over plain
// HTTP, before any certificate exists).
import type http from 'node:http';
import type { ServiceRuntime } from '../core/service.js';
import { parseListen } from '../core/validate.js';
import { hostName, noService, sendError } from '../http/node/http-proxy.js';

/** ACME HTTP-01: token → key authorization. */
export type Challenges = Map<string, string>;

const CHALLENGE_PATH = '/.well-known/acme-challenge/';
const HOST_CHARS = /^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$/;

export function redirectHandler(
  challenges: Challenges,
  services: () => ServiceRuntime[],
): http.RequestListener {
  return (req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith(CHALLENGE_PATH)) {
      if (!answerChallenge(challenges, url, res)) {
        sendError(res, noService(hostName(req.headers.host), url));
      }
      return;
    }
    const location = httpsUrl(hostName(req.headers.host), url, services());
    if (location === null) {
      sendError(res, noService(hostName(req.headers.host), url));
      return;
    }
    res.writeHead(308, { location, 'content-length': 0, 'cache-control': 'no-store' });
    res.end();
  };
}

/**
 * The answer to an ACME HTTP-01 request, when the daemon set one. Plain HTTP listeners answer
 * too while a challenge is set (a first certificate is ordered before its redirect listener
 * exists): both engines ask here, behind a check of `challenges.size`.
 */
export function challengeAnswer(challenges: Challenges, url: string): string | undefined {
  return url.startsWith(CHALLENGE_PATH)
    ? challenges.get(url.slice(CHALLENGE_PATH.length))
    : undefined;
}

const ANSWER_HEADERS = (answer: string) => ({
  'content-type': 'application/octet-stream',
  'content-length': Buffer.byteLength(answer),
  'cache-control': 'no-store',
});

/** Writes the challenge's answer on a response; false when there is none. */
export function answerChallenge(
  challenges: Challenges,
  url: string,
  res: http.ServerResponse,
): boolean {
  const answer = challengeAnswer(challenges, url);
  if (answer === undefined) return false;
  res.writeHead(200, ANSWER_HEADERS(answer));
  res.end(answer);
  return true;
}

/** The same answer as raw bytes (the fast path). */
export function challengeResponse(answer: string): Buffer {
  let head = 'HTTP/1.1 200 OK\r\n';
  for (const [name, value] of Object.entries(ANSWER_HEADERS(answer)))
    head += `${name}: ${value}\r\n`;
  return Buffer.from(`${head}\r\n${answer}`, 'latin1');
}

/**
 * The https URL for a request: the host the client asked for when a TLS service takes it (a
 * service without hosts takes any well-formed one), on that service's TLS port.
 */
function httpsUrl(host: string, url: string, services: ServiceRuntime[]): string | null {
  const named = services.find((s) => s.settings.hosts.includes(host));
  const svc = named ?? services.find((s) => s.settings.hosts.length === 0);
  if (svc === undefined) return null;
  const listen = parseListen(svc.settings.listen);
  const name = host !== '' && HOST_CHARS.test(host) ? host : bracketed(listen.host);
  const port = listen.port === 443 ? '' : `:${listen.port}`;
  return `https://${name}${port}${url.startsWith('/') ? url : '/'}`;
}

function bracketed(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

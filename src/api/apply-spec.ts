// The spec an `up` (or a plan) deploys: spec text parsed here, or a spec the CLI already checked.
// A checked spec skipped the daemon's parser, so from a remote caller its security-relevant
// fields are checked for shape here before the container policy reads them.
import type { Context } from 'hono';
import { z } from 'zod';
import { HotswapError } from '../errors.js';
import { checkContainerPolicy, checkRemoteEnvFiles, type Security } from '../security/index.js';
import { parseSpec, type Spec } from '../spec/index.js';
import { transportOf } from './transport.js';

export type ApplyInput =
  | { file: string; text: string; service?: string | undefined }
  | { spec: unknown; service?: string | undefined };

const strings = z.array(z.string());
const RemoteCheckedSpec = z.looseObject({
  file: z.string(),
  services: z.array(
    z.looseObject({
      name: z.string(),
      image: z.string(),
      env: z.record(z.string(), z.string()),
      command: strings.nullable(),
      volumes: z.array(
        z.strictObject({ source: z.string(), target: z.string(), readOnly: z.boolean() }),
      ),
      secretEnv: z
        .record(z.string(), z.strictObject({ file: z.string(), sha256: z.string() }))
        .optional(),
      hardening: z
        .strictObject({
          user: z.string().optional(),
          readOnly: z.boolean().optional(),
          capDrop: strings.optional(),
          capAdd: strings.optional(),
          noNewPrivileges: z.boolean().optional(),
          pidsLimit: z.number().int().positive().optional(),
          tmpfs: z.record(z.string(), z.string()).optional(),
        })
        .optional(),
      tls: z
        .looseObject({
          cert: z.string().nullable(),
          key: z.string().nullable(),
          acme: z.looseObject({ directoryCa: z.string().nullable() }).nullable(),
        })
        .nullable()
        .optional(),
      preflight: z
        .array(
          z.strictObject({
            run: strings.min(1),
            timeoutMs: z.number().positive(),
            onFail: z.enum(['block', 'warn']),
          }),
        )
        .optional(),
    }),
  ),
});

export function specOf(c: Context, body: ApplyInput, security: Security): Spec {
  const remote = transportOf(c) === 'remote';
  if (!('spec' in body)) {
    if (!remote) return parseSpec(body.text, body.file);
    // A remote caller's text is read without the daemon's environment (${VAR} would hand it the
    // daemon's variables) and with its envFiles inside the allowed roots.
    checkRemoteEnvFiles(body.text, body.file, security.containerPolicy);
    return parseSpec(body.text, body.file, { vars: {} });
  }
  if (remote) {
    const r = RemoteCheckedSpec.safeParse(body.spec);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new HotswapError('USAGE', `API field "spec.${i.path.join('.')}": ${i.message}`);
    }
  }
  return body.spec as Spec;
}

/** The spec, refused (POLICY_REFUSED) when the daemon's container policy says no. */
export function checkedSpec(c: Context, body: ApplyInput, security: Security): Spec {
  const spec = specOf(c, body, security);
  checkContainerPolicy(spec, security.containerPolicy, {
    localCaller: transportOf(c) === 'local',
  });
  return spec;
}

import type { Context } from 'hono';
import { z } from 'zod';
import { HotswapError } from '../errors.js';

/** Parses and validates a JSON body; errors name the API field that was wrong. */
export async function readBody<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    const text = await c.req.text();
    raw = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new HotswapError('USAGE', 'request body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0]!;
  const field = first.path.join('.') || '(body)';
  throw new HotswapError('USAGE', `API field "${field}": ${first.message}`, {
    details: {
      issues: parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message })),
    },
  });
}

// JSON Schema of hotswap.yaml for editors (e.g. yaml-language-server's "# yaml-language-server:
// $schema=…" comment). Generated from the zod schema so the two cannot drift apart.
import { z } from 'zod';
import { specSchema } from './schema.js';

export function specJsonSchema(): Record<string, unknown> {
  // io "input": describe what people write (defaults make keys optional), not the parsed output.
  const generated = z.toJSONSchema(specSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    ...generated,
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'hotswap.yaml',
    description: 'Services that hotswap runs and updates without downtime.',
  };
}

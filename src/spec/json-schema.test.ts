import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { specJsonSchema } from './json-schema.js';

interface ObjectSchema {
  properties: Record<string, unknown>;
  required?: string[];
  additionalProperties?: unknown;
}

void describe('specJsonSchema', () => {
  const schema = specJsonSchema();

  void it('is a titled draft 2020-12 schema with a required services mapping', () => {
    assert.equal(schema['$schema'], 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema['title'], 'hotswap.yaml');
    assert.deepEqual(schema['required'], ['services']);
    assert.equal(schema['additionalProperties'], false);
    const services = (
      schema['properties'] as Record<string, { propertyNames: { pattern: string } }>
    )['services'];
    assert.equal(services?.propertyNames.pattern, '^[a-z][a-z0-9-]{0,30}$');
  });

  void it('describes a service: required keys, defaults, no unknown keys', () => {
    const services = (
      schema['properties'] as Record<string, { additionalProperties: ObjectSchema }>
    )['services'];
    const service = services?.additionalProperties;
    assert.deepEqual(service?.required?.sort(), ['image', 'listen', 'port']);
    assert.equal(service?.additionalProperties, false);
    assert.deepEqual(service?.properties['replicas'], {
      default: 1,
      type: 'integer',
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
    });
    const health = service?.properties['health'] as ObjectSchema;
    assert.equal((health.properties['interval'] as { default: string }).default, '1s');
  });

  void it('is plain JSON', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(schema)), schema);
  });
});

// Exit 0 when the lab (named by the env) is up: every node's engine and the registry answer
// and lab:up recorded its images; else 1 with what is missing. Used by scripts/run-tests.mjs.
//   node dist/scripts/lab/status.js
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { labConfig } from './config.js';
import { engineAnswers } from './dockerd.js';
import { registryAnswers } from './registry.js';

const config = labConfig();
const missing = config.nodes.filter((n) => !engineAnswers(n)).map((n) => `${n.name}'s dockerd`);
if (!(await registryAnswers(config))) missing.push(`registry ${config.registry}`);
if (!existsSync(join(config.dir, 'images.json'))) missing.push('images.json');
console.log(
  missing.length === 0
    ? `lab ${config.prefix} is up`
    : `lab ${config.prefix}: no ${missing.join(', ')}`,
);
process.exit(missing.length === 0 ? 0 : 1);

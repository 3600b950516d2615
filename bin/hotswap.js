#!/usr/bin/env node
// Entry point: the compiled CLI lives in dist/ (run `npm run build` after changing src/).
await import('../dist/src/cli/main.js');

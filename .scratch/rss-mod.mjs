const mod = process.argv[2];
const before = process.memoryUsage().rss;
const t0 = performance.now();
await import(mod.startsWith(".") ? new URL("../" + mod.slice(2), import.meta.url).href : mod);
const t1 = performance.now();
global.gc?.();
const m = process.memoryUsage();
console.log(`${mod.padEnd(60)} rss +${((m.rss - before)/1048576).toFixed(1)} MiB  heap ${(m.heapUsed/1048576).toFixed(1)} MiB  ${(t1-t0).toFixed(0)} ms`);

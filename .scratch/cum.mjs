const mods = process.argv.slice(2);
let prev = process.memoryUsage().rss;
for (const mod of mods) {
  await import(mod.startsWith('.') ? new URL('../' + mod.slice(2), import.meta.url).href : mod);
  global.gc(); await new Promise(r=>setTimeout(r,50)); global.gc();
  const r = process.memoryUsage().rss;
  console.log(`${mod.padEnd(45)} +${((r - prev)/1048576).toFixed(1)}  total ${(r/1048576).toFixed(1)}`);
  prev = r;
}

const fs = require('node:fs');
const v8 = require('node:v8');
const f = `/tmp/memlog-${process.pid}.txt`;
const t = setInterval(() => {
  const m = process.memoryUsage();
  const spaces = v8.getHeapSpaceStatistics().map(s => `${s.space_name.replace('_space','')}=${(s.space_size/1048576).toFixed(1)}/${(s.space_used_size/1048576).toFixed(1)}`).join(' ');
  fs.appendFileSync(f, `${new Date().toISOString()} argv=${process.argv[2]} rss=${(m.rss/1048576).toFixed(1)} heapTotal=${(m.heapTotal/1048576).toFixed(1)} heapUsed=${(m.heapUsed/1048576).toFixed(1)} ext=${(m.external/1048576).toFixed(1)} ab=${(m.arrayBuffers/1048576).toFixed(1)} ${spaces}\n`);
}, 5000); t.unref();

export async function load(url, context, next) { process.stderr.write(`LOAD ${url}\n`); return next(url, context); }

const v8=require('v8'); let keep=[]; for(let i=0;i<3e6;i++){ keep.push({a:i,b:'x'+i}); if(keep.length>20000) keep=[]; }
const s=v8.getHeapSpaceStatistics().find(s=>s.space_name==='new_space'); console.log(process.execArgv.join(' ')||'default', 'new_space', (s.space_size/1048576).toFixed(1), 'rss', (process.memoryUsage().rss/1048576).toFixed(1));

// Background load for bench/api_wrk.sh, built from the generators of the HTTP limit tests
// (tests/integration/lib/load.mjs), held until this process gets SIGTERM:
//   node bench/api_load.mjs slow PORT N          N sockets sending one header line every 3 s
//   node bench/api_load.mjs streams PORT N TOKEN N event streams of one token
// Prints one line once the load is in place ("slow connected=..." or
// "streams opened=... statuses=..."), then holds it.
import { eventStreams, slowSockets } from '../tests/integration/lib/load.mjs';

const [kind, port, n, token] = process.argv.slice(2);
let load;
if (kind === 'slow') {
  load = await slowSockets(Number(port), Number(n), { firstAddr: 0, addrs: 10 });
  console.log(`slow connected=${load.connected} failed=${load.failed}`);
} else if (kind === 'streams') {
  load = await eventStreams(Number(port), Number(n), () => token, { firstAddr: 10, addrs: 10 });
  console.log(`streams opened=${load.byStatus[200] || 0} statuses=${JSON.stringify(load.byStatus)}`);
} else {
  console.error('usage: api_load.mjs slow PORT N | streams PORT N TOKEN');
  process.exit(2);
}
process.on('SIGTERM', () => {
  load.close();
  process.exit(0);
});

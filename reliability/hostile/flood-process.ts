/**
 * A `PipelineFlood` in a process of its own, so that the process timing the
 * normal client measures the server, not its own event loop busy writing for
 * a hundred hostile sockets.
 *
 * Run: `node build/reliability/hostile/flood-process.js PORT CONNECTIONS [tls]`
 * (`tls`: over TLS). Prints
 * `flooding` once the connections are opened; on SIGTERM it stops and prints
 * one JSON line, `{opened, closedByServer, written}`, then exits.
 */

import { PipelineFlood } from "./clients.js";

const [port, connections] = process.argv.slice(2, 4).map(Number);
const tls = process.argv[4] === "tls";
if (!Number.isInteger(port) || !Number.isInteger(connections)) {
  process.stderr.write("usage: flood-process.js PORT CONNECTIONS [tls]\n");
  process.exit(2);
}
const flood = new PipelineFlood(port as number, connections as number, tls);
flood.start();
process.stdout.write("flooding\n");

let stopped = false;
const stop = (): void => {
  if (stopped) return;
  stopped = true;
  flood.stop();
  const { opened, closedByServer, written } = flood;
  process.stdout.write(`${JSON.stringify({ opened, closedByServer, written })}\n`, () =>
    process.exit(0),
  );
};
process.once("SIGTERM", stop);

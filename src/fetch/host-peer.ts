/**
 * Who sent a request, from what the host running a Fetch handler passes it
 * after the `Request`. A `Request` does not say; each runtime hands its
 * handler something that does, in its own shape.
 */

import type { RequestPeer } from "../gateway/request-head.js";

/** A value's property `key`, when the value is an object (or a function) that has one. */
function field(value: unknown, key: string): unknown {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) {
    return undefined;
  }
  return (value as Record<string, unknown>)[key];
}

/** `port` when it is one, else undefined. */
function portOf(port: unknown): number | undefined {
  return typeof port === "number" && Number.isInteger(port) && port >= 0 ? port : undefined;
}

/**
 * The client's address and port as the host tells them through `context`, the
 * second argument of the handler's call:
 * - @hono/node-server passes `{ incoming }`, the `IncomingMessage` (Hono's
 *   `c.env`, which `app.mount()` passes on too): its socket's peer;
 * - Deno's `serve` passes a `ServeHandlerInfo`: `remoteAddr.hostname` and `.port`;
 * - Bun's `serve` passes its `Server`: `requestIP(request)`.
 * Undefined when `context` is none of these.
 */
export function hostPeer(request: Request, context: unknown): RequestPeer | undefined {
  if (context === undefined || context === null) return undefined;
  const socket = field(field(context, "incoming"), "socket");
  const nodeAddress = field(socket, "remoteAddress");
  if (typeof nodeAddress === "string") {
    return { remoteAddress: nodeAddress, remotePort: portOf(field(socket, "remotePort")) };
  }
  const remote = field(context, "remoteAddr");
  const denoAddress = field(remote, "hostname");
  if (typeof denoAddress === "string") {
    return { remoteAddress: denoAddress, remotePort: portOf(field(remote, "port")) };
  }
  const requestIP = field(context, "requestIP");
  if (typeof requestIP === "function") {
    const ip: unknown = requestIP.call(context, request);
    const bunAddress = field(ip, "address");
    if (typeof bunAddress === "string") {
      return { remoteAddress: bunAddress, remotePort: portOf(field(ip, "port")) };
    }
  }
  return undefined;
}

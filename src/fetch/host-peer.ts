/**
 * Who sent a request, from what the host running a Fetch handler passes it
 * after the `Request`. A `Request` does not say; each runtime hands its
 * handler something that does, in its own shape.
 */

import type { RequestPeer } from "../gateway/request-head.js";

/** A value whose properties may be read: an object or a function. */
type Readable = Record<string, unknown>;

/**
 * Whether `value` is an object or a function. Its properties are then read by
 * name, each read site seeing one shape, rather than through a helper taking the
 * key: a keyed read there sees every shape and is slow for all of them.
 */
function isReadable(value: unknown): value is Readable {
  return (typeof value === "object" && value !== null) || typeof value === "function";
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
  if (!isReadable(context)) return undefined;
  const incoming = context.incoming;
  if (isReadable(incoming)) {
    const socket = incoming.socket;
    if (isReadable(socket)) {
      const address = socket.remoteAddress;
      if (typeof address === "string") {
        return { remoteAddress: address, remotePort: portOf(socket.remotePort) };
      }
    }
  }
  const remote = context.remoteAddr;
  if (isReadable(remote)) {
    const hostname = remote.hostname;
    if (typeof hostname === "string") {
      return { remoteAddress: hostname, remotePort: portOf(remote.port) };
    }
  }
  const requestIP = context.requestIP;
  if (typeof requestIP === "function") {
    const ip: unknown = requestIP.call(context, request);
    if (isReadable(ip)) {
      const address = ip.address;
      if (typeof address === "string") {
        return { remoteAddress: address, remotePort: portOf(ip.port) };
      }
    }
  }
  return undefined;
}

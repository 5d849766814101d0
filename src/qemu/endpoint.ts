/** QEMU's sockets as a user names them: `host:port` (a name, IPv4, or bracketed IPv6) or a Unix socket path. */
import { createConnection, type Socket } from 'node:net';

/** The host and port of a `host:port` spec (an empty host is 127.0.0.1); undefined for a path. */
export function tcpEndpoint(spec: string): { host: string; port: number } | undefined {
  const m = /^([\w.-]*|\[[0-9a-f:]+\]):(\d+)$/i.exec(spec);
  return m ? { host: m[1]!.replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(m[2]) } : undefined;
}

/** A connection to `spec`, over TCP or a Unix socket. */
export function connectTo(spec: string): Socket {
  const tcp = tcpEndpoint(spec);
  return tcp ? createConnection(tcp) : createConnection(spec);
}

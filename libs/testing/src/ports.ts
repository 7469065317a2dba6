import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that is free now and outside the kernel's ephemeral range. Outside that
 * range the kernel never hands the port to an outgoing connection, so a test can stop a process
 * and start it again on the same port (other processes keep its address) without a client
 * socket having taken the port in between.
 */
export async function freePort(): Promise<number> {
  const [low, high] = allocatableRange();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (taken.has(port)) continue;
    if (await isFree(port)) {
      taken.add(port);
      return port;
    }
  }
  throw new Error(`no free port found in ${low}-${high}`);
}

/** Ports this process handed out already (so two services of one test never share one). */
const taken = new Set<number>();

function allocatableRange(): [number, number] {
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
  } catch {
    /* not Linux: keep the common default */
  }
  // below the ephemeral range, above the well-known and common development ports
  return [Math.min(20_000, ephemeralLow - 2_000), ephemeralLow];
}

export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

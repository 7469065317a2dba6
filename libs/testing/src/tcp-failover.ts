import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP front for several gateways, as a load balancer or a Kubernetes Service is in production
 * (or for one server, as a link a test can cut: stop() and start() again on the same port):
 * each new connection goes to the first backend that accepts it (active/passive, so a test knows
 * which gateway its clients are on). When a backend dies, its connections drop and new ones go
 * to the next.
 */
export class TcpFailover {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly backends: string[],
  ) {}

  /** `backends`: host:port, in order of preference; `port` 0 picks a free one. */
  static async start(backends: string[], port = 0): Promise<TcpFailover> {
    const server = createServer();
    const front = new TcpFailover(server, backends);
    server.on('connection', (client) => front.route(client));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return front;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private route(client: Socket, index = 0): void {
    this.track(client);
    client.pause();
    const target = this.backends[index];
    if (target === undefined) return void client.destroy();
    const [host, port] = target.split(':');
    const upstream = connect(Number(port), host!);
    let connected = false;
    upstream.once('error', () => {
      if (!connected) this.route(client, index + 1); // refused: the next backend
    });
    upstream.once('connect', () => {
      connected = true;
      this.track(upstream);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }

  private track(socket: Socket): void {
    if (this.sockets.has(socket)) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }
}

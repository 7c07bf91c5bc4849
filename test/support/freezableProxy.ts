// A TCP proxy (node:net) in front of a real server that can be frozen — connections accepted, nothing forwarded — and healed.
import { connect, createServer, type Server, type Socket } from 'node:net';

/** A running proxy. */
export interface FreezableProxy {
  /** The local port clients connect to. */
  readonly port: number;
  /** Stops forwarding in both directions; open and new connections stay open. */
  freeze(): void;
  /** Forwards again (in `buffer` mode, what waited while frozen first). */
  heal(): void;
  /** Whether it is frozen. */
  readonly frozen: boolean;
  /** Closes the listener and every connection. */
  close(): Promise<void>;
}

/**
 * What a frozen proxy does with bytes: `drop` discards them (a black hole: connections open during
 * the freeze are out of step afterwards, as after lost packets); `buffer` leaves them unread and
 * delivers them on the heal (a stopped server process: late, but in order).
 */
export type FreezeMode = 'drop' | 'buffer';

/**
 * Starts a proxy on a free port of 127.0.0.1 forwarding to `target`. Frozen, it behaves like a
 * server that stopped answering: TCP connects succeed, writes succeed, no reply comes until
 * {@link FreezableProxy.heal}.
 */
export async function startFreezableProxy(
  target: { host: string; port: number },
  mode: FreezeMode = 'drop',
): Promise<FreezableProxy> {
  const sockets = new Set<Socket>();
  let frozen = false;
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
    if (frozen && mode === 'buffer') s.pause();
  };
  const server: Server = createServer((client) => {
    const upstream = connect(target);
    track(client);
    track(upstream);
    client.on('data', (d) => {
      if (!frozen) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!frozen) client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    get frozen() {
      return frozen;
    },
    freeze() {
      frozen = true;
      if (mode === 'buffer') for (const s of sockets) s.pause();
    },
    heal() {
      frozen = false;
      if (mode === 'buffer') for (const s of sockets) s.resume();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

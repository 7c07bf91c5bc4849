// The local Redis Cluster of the tests (3 masters + 3 replicas, ports 7000-7005): start it when down, read its health.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Ports of the six nodes. */
export const CLUSTER_PORTS = [7000, 7001, 7002, 7003, 7004, 7005] as const;

/** Startup nodes for `createRedisBackend({ cluster })`. */
export const CLUSTER_NODES = CLUSTER_PORTS.map((port) => ({ host: '127.0.0.1', port }));

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '.ci', 'redis-cluster');

/**
 * Starts whatever part of the cluster is down (the idempotent `.ci/redis-cluster` script) and
 * waits for `cluster_state:ok` with 3 masters and 3 linked replicas. Throws — so the test fails
 * rather than skips — when the cluster cannot be brought up.
 */
export function ensureRedisCluster(): void {
  const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    throw new Error(`the local Redis Cluster could not be started: ${r.stderr || r.stdout || r.error}`);
  }
}

/** One line of `CLUSTER NODES`. */
export interface ClusterNodeInfo {
  readonly id: string;
  readonly port: number;
  readonly role: 'master' | 'replica';
  /** The master's id, for a replica. */
  readonly masterId: string | undefined;
  readonly failed: boolean;
  readonly connected: boolean;
  /** Slot ranges served (masters). */
  readonly slots: readonly string[];
}

/** `CLUSTER NODES` as seen from the node on `port`. */
export function clusterNodes(port: number): ClusterNodeInfo[] {
  const text = redisCli(port, 'cluster', 'nodes');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const f = line.trim().split(' ');
      const flags = f[2]!.split(',');
      return {
        id: f[0]!,
        port: Number(f[1]!.split('@')[0]!.split(':').pop()),
        role: flags.includes('master') ? 'master' : 'replica',
        masterId: f[3] === '-' ? undefined : f[3],
        failed: flags.includes('fail') || flags.includes('fail?'),
        connected: f[7] === 'connected',
        slots: f.slice(8),
      };
    });
}

/** `cluster_state` as seen from the node on `port` (`ok` or `fail`); `down` when it does not answer. */
export function clusterState(port: number): string {
  try {
    const m = /cluster_state:(\w+)/.exec(redisCli(port, 'cluster', 'info'));
    return m?.[1] ?? 'unknown';
  } catch {
    return 'down';
  }
}

/** The pid of the `redis-server` on `port` (from `INFO server`). */
export function serverPid(port: number): number {
  const m = /process_id:(\d+)/.exec(redisCli(port, 'info', 'server'));
  if (m === null) throw new Error(`no process_id from the node on ${port}`);
  return Number(m[1]);
}

/** Runs `redis-cli -p port ...args` and returns its output. */
export function redisCli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8',
    timeout: 5000,
  });
}

/** The hash slot of a key (`CLUSTER KEYSLOT`). */
export function keySlot(key: string): number {
  return Number(redisCli(CLUSTER_PORTS[0], 'cluster', 'keyslot', key).trim());
}

/** The live master serving `slot`, as seen from a node that answers. */
export function masterOfSlot(slot: number): ClusterNodeInfo {
  const nodes = clusterNodes(anyLivePort());
  const master = nodes.find(
    (n) =>
      n.role === 'master' &&
      !n.failed &&
      n.slots.some((range) => {
        const [lo, hi] = range.split('-').map(Number);
        return slot >= lo! && slot <= (hi ?? lo)!;
      }),
  );
  if (master === undefined) throw new Error(`no live master serves slot ${slot}`);
  return master;
}

/** The port of a node that answers PING. */
export function anyLivePort(): number {
  for (const port of CLUSTER_PORTS) {
    try {
      if (redisCli(port, 'ping').trim() === 'PONG') return port;
    } catch {
      // try the next one
    }
  }
  throw new Error('no node of the Redis Cluster answers');
}

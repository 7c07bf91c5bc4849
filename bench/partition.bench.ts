// Bench: Sluice's partitioners (jump, rendezvous, consistent hash, hash slot, modulo MD5) beside the hashring package.
/**
 * Partitioning benchmark: Sluice's partitioners side by side with the `hashring` package
 * (ketama-compatible consistent hashing, MD5, LRU cache).
 *
 * Run: node --import tsx bench/partition.bench.ts
 * Prints markdown tables and writes bench/results/partition.json.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { loadSluice, writeBenchResult } from './run.ts';

const { consistentHash, hashSlot, jumpHash, moduloMd5, murmur3, PartitionAssignment, rendezvous } =
  await loadSluice();

interface HashRingLike {
  get(key: string): string;
  add(server: string): HashRingLike;
}
type HashRingCtor = new (servers: string[]) => HashRingLike;
const HashRing = createRequire(import.meta.url)('hashring') as HashRingCtor;

const N = 10;
const KEY_COUNT = 100_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 250);

const keys = Array.from({ length: KEY_COUNT }, (_, i) => `user:${(i * 2654435761) >>> 0}`);
const members = Array.from({ length: N }, (_, i) => `10.0.0.${i + 1}:6379`);
const extra = `10.0.0.${N + 1}:6379`;

type Loop = (
  fn: (key: string) => unknown,
  keys: readonly string[],
  ms: number,
) => { ops: number; elapsed: number };

/**
 * A timing loop compiled separately for each subject (`new Function`), so that the call to `fn`
 * stays monomorphic and can be inlined as it would be in application code, instead of every
 * subject sharing one megamorphic call site.
 */
function makeLoop(): Loop {
  return new Function(
    'fn',
    'keys',
    'ms',
    `let ops = 0, miss = 0, elapsed = 0;
     const start = performance.now();
     do {
       for (let i = 0; i < keys.length; i++) if (fn(keys[i]) === undefined) miss++;
       ops += keys.length;
       elapsed = performance.now() - start;
     } while (elapsed < ms);
     return { ops: ops + (miss > ops ? 1 : 0), elapsed };`,
  ) as Loop;
}

/** Lookups per second of `fn` over `keySet`: median of ROUNDS rounds of about ROUND_MS each. */
function rate(fn: (key: string) => unknown, keySet: readonly string[] = keys): number {
  const loop = makeLoop();
  loop(fn, keySet, 50); // warm-up: let the JIT optimize the loop with this subject
  const results: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const { ops, elapsed } = loop(fn, keySet, ROUND_MS);
    results.push((ops / elapsed) * 1000);
  }
  results.sort((a, b) => a - b);
  return results[Math.floor(results.length / 2)]!;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Rates of `a` and `b` measured in alternating rounds, so that load from other processes hits
 * both alike; the ratio is the median of the per-round ratios.
 */
function ratePair(
  a: (key: string) => unknown,
  b: (key: string) => unknown,
): { a: number; b: number; ratio: number } {
  const loopA = makeLoop();
  const loopB = makeLoop();
  loopA(a, keys, 50);
  loopB(b, keys, 50);
  const ra: number[] = [];
  const rb: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const x = loopA(a, keys, ROUND_MS);
    const y = loopB(b, keys, ROUND_MS);
    ra.push((x.ops / x.elapsed) * 1000);
    rb.push((y.ops / y.elapsed) * 1000);
    ratios.push(ra[r]! / rb[r]!);
  }
  return { a: median(ra), b: median(rb), ratio: median(ratios) };
}

/** max/mean load of `route` over the key set. */
function balance(route: (key: string) => string): number {
  const counts = new Map<string, number>();
  for (const k of keys) {
    const m = route(k);
    counts.set(m, (counts.get(m) ?? 0) + 1);
  }
  return Math.max(...counts.values()) / (KEY_COUNT / counts.size);
}

/** Fraction of keys whose owner changes between `before` and `after`. */
function movement(before: (key: string) => string, after: (key: string) => string): number {
  const owners = keys.map(before);
  let moved = 0;
  keys.forEach((k, i) => {
    if (after(k) !== owners[i]) moved++;
  });
  return moved / KEY_COUNT;
}

const fmtRate = (r: number) => `${(r / 1e6).toFixed(2)} M/s`;
const fmt = (x: number, digits = 3) => x.toFixed(digits);

// --- Lookup rates ---------------------------------------------------------------------------
const ring = consistentHash({ members });
const hashring = new HashRing(members);
const jump = jumpHash(members);
const hrw = rendezvous(members);
const md5 = moduloMd5(members);
const assignment = PartitionAssignment.create({ members });

const pair = ratePair(
  (k) => ring.route(k),
  (k) => hashring.get(k),
);
const nonAscii = keys.map((k) => k.replace('user', 'usér'));
const lookups = {
  'sluice consistentHash.route': pair.a,
  'hashring get (LRU cache 5000, 100k distinct keys)': pair.b,
  'sluice jumpHash.route': rate((k) => jump.route(k)),
  'sluice rendezvous.route (N=10)': rate((k) => hrw.route(k)),
  'sluice PartitionAssignment.route (256 partitions)': rate((k) => assignment.route(k)),
  'sluice hashSlot': rate((k) => hashSlot(k)),
  'sluice moduloMd5.route': rate((k) => md5.route(k)),
  'md5 mod n with node:crypto + BigInt (reference)': rate(
    (k) => members[Number(BigInt(`0x${createHash('md5').update(k).digest('hex')}`) % BigInt(N))],
  ),
  'murmur3 (partition hot path)': rate((k) => murmur3(k)),
  'murmur3, non-ASCII keys': rate((k) => murmur3(k), nonAscii),
};
// hashring on a hot key set that fits its LRU cache, for completeness.
const hotKeys = keys.slice(0, 1000);
const hashringHot = rate((k) => hashring.get(k), hotKeys);

const ratio = pair.ratio;

// --- Balance --------------------------------------------------------------------------------
const bounded105 = consistentHash({ members, boundedLoad: { factor: 1.05 } });
bounded105.assignAll(keys);
const bounded125 = consistentHash({ members, boundedLoad: { factor: 1.25 } });
bounded125.assignAll(keys);
const plain = consistentHash({ members });
const natural105 = keys.filter((k) => bounded105.route(k) === plain.route(k)).length / KEY_COUNT;
const natural125 = keys.filter((k) => bounded125.route(k) === plain.route(k)).length / KEY_COUNT;

const balanceRows = {
  'sluice consistentHash (160 vnodes)': balance((k) => ring.route(k)),
  'sluice consistentHash, boundedLoad 1.25': balance((k) => bounded125.route(k)),
  'sluice consistentHash, boundedLoad 1.05': balance((k) => bounded105.route(k)),
  'hashring (ketama, 160 points)': balance((k) => hashring.get(k)),
  'sluice jumpHash': balance((k) => jump.route(k)),
  'sluice rendezvous': balance((k) => hrw.route(k)),
  'sluice moduloMd5': balance((k) => md5.route(k)),
};

// Balance depends on where the member names happen to land: average over several name sets.
const NAME_SETS = 10;
const avgBalance = { sluice: 0, hashring: 0, sluiceBounded105: 0 };
for (let t = 0; t < NAME_SETS; t++) {
  const ms = Array.from({ length: N }, (_, i) => `cache-${t}-${i}.internal:11211`);
  const r = consistentHash({ members: ms });
  const h = new HashRing(ms);
  const b = consistentHash({ members: ms, boundedLoad: 1.05 });
  b.assignAll(keys);
  avgBalance.sluice += balance((k) => r.route(k)) / NAME_SETS;
  avgBalance.hashring += balance((k) => h.get(k)) / NAME_SETS;
  avgBalance.sluiceBounded105 += balance((k) => b.route(k)) / NAME_SETS;
}

// --- Movement N -> N+1 ----------------------------------------------------------------------
const ideal = 1 / (N + 1);
const ringAfter = consistentHash({ members: [...members, extra] });
const hashringBefore = new HashRing(members);
const hashringAfter = new HashRing([...members, extra]);
const jumpAfter = jumpHash([...members, extra]);
const hrwAfter = rendezvous([...members, extra]);
const md5After = moduloMd5([...members, extra]);
const boundedMoved = (() => {
  const b = consistentHash({ members, boundedLoad: { factor: 1.05 } });
  b.assignAll(keys);
  b.add(extra);
  return b.rebalance().length / KEY_COUNT;
})();

const movementRows = {
  'sluice consistentHash': movement(
    (k) => ring.route(k),
    (k) => ringAfter.route(k),
  ),
  hashring: movement(
    (k) => hashringBefore.get(k),
    (k) => hashringAfter.get(k),
  ),
  'sluice jumpHash': movement(
    (k) => jump.route(k),
    (k) => jumpAfter.route(k),
  ),
  'sluice rendezvous': movement(
    (k) => hrw.route(k),
    (k) => hrwAfter.route(k),
  ),
  'sluice consistentHash, boundedLoad 1.05 + rebalance': boundedMoved,
  'sluice moduloMd5 (for contrast)': movement(
    (k) => md5.route(k),
    (k) => md5After.route(k),
  ),
};

// --- Movement for several N (consistent hash, default vnodes; hashring's ketama ring alike) ----

/**
 * Keys moved when `members` grows by its last name, as a multiple of the ideal 1/(N+1):
 * `[sluice consistentHash, hashring]`.
 */
function growthMovement(members: string[]): [number, number] {
  const before = members.slice(0, -1);
  const ringBefore = consistentHash({ members: before });
  const ringAfter = consistentHash({ members });
  const hBefore = new HashRing(before);
  const hAfter = new HashRing(members);
  return [
    movement(
      (k) => ringBefore.route(k),
      (k) => ringAfter.route(k),
    ) * members.length,
    movement(
      (k) => hBefore.get(k),
      (k) => hAfter.get(k),
    ) * members.length,
  ];
}

const movementByN: Record<string, number> = {};
const hashringMovementByN: Record<string, number> = {};
for (const n of [2, 3, 5, 8, 10, 16, 20, 32]) {
  const [sluice, hr] = growthMovement(Array.from({ length: n + 1 }, (_, i) => `node-${i}`));
  movementByN[String(n)] = sluice;
  hashringMovementByN[String(n)] = hr;
}

// The spread of N -> N+1 movement over many member-name sets: with 160 independent points per
// member, the arc a new member takes has a relative standard deviation of about 1/sqrt(160).
const SPREAD_SETS = 100;
const SPREAD_N = 20;
const spread: number[] = [];
const hashringSpread: number[] = [];
for (let t = 0; t < SPREAD_SETS; t++) {
  const [sluice, hr] = growthMovement(Array.from({ length: SPREAD_N + 1 }, (_, i) => `set${t}-member-${i}`));
  spread.push(sluice);
  hashringSpread.push(hr);
}
/** Mean, standard deviation, 5th and 95th percentiles and share above 1.1 of movement ratios. */
function spreadOf(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
  const p = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const over = s.filter((x) => x > 1.1).length / s.length;
  return `mean ${fmt(mean)}, standard deviation ${fmt(sd)}, 5th-95th percentile ${fmt(p(0.05))}-${fmt(p(0.95))}, ${fmt(over * 100, 0)}% of sets above 1.1`;
}
const spreadSummary =
  `over ${SPREAD_SETS} member-name sets, N=${SPREAD_N} -> ${SPREAD_N + 1} moved x ideal: sluice consistentHash ${spreadOf(spread)}; ` +
  `hashring ${spreadOf(hashringSpread)} (1/sqrt(160) = ${fmt(1 / Math.sqrt(160))})`;

// --- Report ---------------------------------------------------------------------------------
const lines: string[] = [];
lines.push(
  `# Partitioning benchmark (${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)})`,
);
lines.push('');
lines.push(
  `${KEY_COUNT} distinct string keys, N = ${N} members; rates are medians of ${ROUNDS} rounds; consistentHash and hashring are measured in alternating rounds and their ratio is the median of per-round ratios.`,
);
lines.push('');
lines.push('| lookup | rate | vs hashring |');
lines.push('| --- | ---: | ---: |');
const base = lookups['hashring get (LRU cache 5000, 100k distinct keys)'];
for (const [name, r] of Object.entries(lookups))
  lines.push(`| ${name} | ${fmtRate(r)} | ${fmt(r / base, 1)}× |`);
lines.push(
  `| hashring get (1000 hot keys, all cached) | ${fmtRate(hashringHot)} | ${fmt(hashringHot / base, 1)}× |`,
);
lines.push('');
lines.push('| balance over 100k keys | max/mean |');
lines.push('| --- | ---: |');
for (const [name, b] of Object.entries(balanceRows)) lines.push(`| ${name} | ${fmt(b)} |`);
lines.push(
  `| mean over ${NAME_SETS} other member-name sets: sluice consistentHash / boundedLoad 1.05 / hashring | ` +
    `${fmt(avgBalance.sluice)} / ${fmt(avgBalance.sluiceBounded105)} / ${fmt(avgBalance.hashring)} |`,
);
lines.push('');
lines.push(
  `Keys on their natural ring owner: ${fmt(natural125 * 100, 1)}% at factor 1.25, ${fmt(natural105 * 100, 1)}% at 1.05.`,
);
lines.push('');
lines.push(`| movement N=${N} → ${N + 1} | moved | × ideal 1/(N+1) |`);
lines.push('| --- | ---: | ---: |');
for (const [name, m] of Object.entries(movementRows)) {
  lines.push(`| ${name} | ${fmt(m * 100, 2)}% | ${fmt(m / ideal, 3)} |`);
}
lines.push('');
lines.push('| consistentHash N → N+1, moved × ideal | ' + Object.keys(movementByN).join(' | ') + ' |');
lines.push(
  `| --- | ${Object.keys(movementByN)
    .map(() => '---:')
    .join(' | ')} |`,
);
lines.push(
  `| sluice, 160 vnodes | ${Object.values(movementByN)
    .map((x) => fmt(x))
    .join(' | ')} |`,
);
lines.push(
  `| hashring, 160 points | ${Object.values(hashringMovementByN)
    .map((x) => fmt(x))
    .join(' | ')} |`,
);
lines.push('');
lines.push(`Movement ${spreadSummary}.`);
lines.push('');
lines.push(
  `consistentHash.route vs hashring.get: **${fmt(ratio, 1)}×** (target ≥ 50×); ` +
    `route rate ${fmtRate(lookups['sluice consistentHash.route'])} (target ≥ 10 M/s); ` +
    `bounded-load max/mean ${fmt(balanceRows['sluice consistentHash, boundedLoad 1.05'])} (target ≤ 1.05).`,
);
console.log(lines.join('\n'));

const hashringRate = lookups['hashring get (LRU cache 5000, 100k distinct keys)'];
writeBenchResult('partition', {
  title: `Partitioning: lookups over ${KEY_COUNT.toLocaleString('en')} distinct keys, N = ${N} members, vs hashring`,
  columns: ['lookup', 'lookups/s', 'vs hashring'],
  rows: [
    ...Object.entries(lookups).map(([name, r]) => [name, Math.round(r), `${fmt(r / hashringRate, 1)}x`]),
    [
      'hashring get (1000 hot keys, all cached)',
      Math.round(hashringHot),
      `${fmt(hashringHot / hashringRate, 1)}x`,
    ],
  ],
  notes: [
    `consistentHash.route vs hashring.get: ${fmt(ratio, 1)}x (median of per-round ratios; target >= 50x); route rate target >= 10 M/s.`,
    `Balance max/mean over 100k keys: ${Object.entries(balanceRows)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join('; ')}.`,
    `Mean max/mean over ${NAME_SETS} other member-name sets: sluice ${fmt(avgBalance.sluice)}, boundedLoad 1.05 ${fmt(avgBalance.sluiceBounded105)}, hashring ${fmt(avgBalance.hashring)}.`,
    `Keys on their natural owner with bounded load: ${fmt(natural125 * 100, 1)}% at 1.25, ${fmt(natural105 * 100, 1)}% at 1.05.`,
    `Keys moved N=${N} -> ${N + 1} (ideal ${fmt(ideal * 100, 2)}%): ${Object.entries(movementRows)
      .map(([k, m]) => `${k} ${fmt(m * 100, 2)}%`)
      .join('; ')}.`,
    `consistentHash (160 vnodes) moved x ideal by N: ${Object.entries(movementByN)
      .map(([n, x]) => `${n}: ${fmt(x)}`)
      .join(', ')}; hashring (ketama, 160 points): ${Object.entries(hashringMovementByN)
      .map(([n, x]) => `${n}: ${fmt(x)}`)
      .join(', ')}.`,
    `Movement ${spreadSummary}; target <= 1.1 for every N.`,
  ],
});

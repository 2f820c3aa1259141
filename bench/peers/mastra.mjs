// Upstream Mastra for Node, the peer of `examples/peer_workloads`: the same workloads on
// `createDurableAgent` from @mastra/core with the AI SDK's mock model.
//
//   node mastra.mjs --backend memory|redis [--redis-url redis://127.0.0.1:6379]
//
// Prints one JSON object on stdout (the figures); progress goes to stderr.

import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Agent } from '@mastra/core/agent';
import { createDurableAgent } from '@mastra/core/agent/durable';
import { simulateReadableStream } from 'ai';
import { MockLanguageModelV2 } from 'ai/test';

const DELTA = 'abcdefghijklmnopqrs '; // 20 bytes, as in examples/peer_workloads
const BIG = 10_000;
const SMALL = 50;
const SEQUENTIAL = 1_000;
const CONCURRENT = 200;

function arg(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && at + 1 < process.argv.length ? process.argv[at + 1] : fallback;
}

const backend = arg('backend', 'memory');
const redisUrl = arg('redis-url', 'redis://127.0.0.1:6379');
if (!['memory', 'redis'].includes(backend)) {
  console.error(`unknown --backend ${backend} (memory or redis)`);
  process.exit(2);
}

/** doStream: stream-start, text-start, n x text-delta, text-end, finish; no delays. */
function mockModel(deltas) {
  return new MockLanguageModelV2({
    doStream: async () => {
      const chunks = [{ type: 'stream-start', warnings: [] }, { type: 'text-start', id: 't' }];
      for (let i = 0; i < deltas; i++) chunks.push({ type: 'text-delta', id: 't', delta: DELTA });
      chunks.push({ type: 'text-end', id: 't' });
      chunks.push({
        type: 'finish',
        finishReason: 'stop',
        usage: { inputTokens: 10, outputTokens: deltas, totalTokens: 10 + deltas },
      });
      // null delays: simulateReadableStream then awaits no timer between chunks.
      return {
        stream: simulateReadableStream({ chunks, initialDelayInMs: null, chunkDelayInMs: null }),
      };
    },
  });
}

// MiB, as examples/peer_workloads reports them (resourceUsage().maxRSS is in KiB).
const peakRssMb = () => process.resourceUsage().maxRSS / 1024;
const rssMb = () => process.memoryUsage().rss / 1048576;

let redis = null;
let keyPrefix = null;
async function makeCache() {
  if (backend === 'memory') return undefined; // the default: InMemoryServerCache
  const { createClient } = await import('redis');
  const { RedisServerCache, nodeRedisPreset } = await import('@mastra/redis');
  redis = createClient({ url: redisUrl });
  redis.on('error', e => console.error('redis:', e.message));
  await redis.connect();
  keyPrefix = `mastra-peers:${randomUUID()}:`;
  return new RedisServerCache({ client: redis }, { ...nodeRedisPreset, keyPrefix });
}

async function countKeys() {
  let n = 0;
  for await (const keys of redis.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 1000 })) {
    n += Array.isArray(keys) ? keys.length : 1;
  }
  return n;
}

function durableAgent(deltas, cache) {
  const agent = new Agent({
    id: 'bench',
    name: 'bench',
    instructions: 'You are a benchmark.',
    model: mockModel(deltas),
  });
  return createDurableAgent({ agent, ...(cache ? { cache } : {}) });
}

async function drain(stream, onFirst) {
  let n = 0;
  for await (const _chunk of stream) {
    if (n === 0 && onFirst) onFirst();
    n++;
  }
  return n;
}

const median = xs => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

async function main() {
  const out = { peer: 'mastra-node', backend, node: process.version, rss_start_mb: rssMb() };
  const cache = await makeCache();
  out.rss_at_rest_mb = rssMb();

  // W1: one run of 10,000 deltas, fullStream read to the end.
  const big = durableAgent(BIG, cache);
  let t0 = performance.now();
  let first = 0;
  const run = await big.stream('go');
  const chunks = await drain(run.fullStream, () => (first = performance.now() - t0));
  const w1 = performance.now() - t0;
  out.w1 = { ms: w1, chunks, chunks_per_s: (chunks / w1) * 1000, first_chunk_ms: first };
  out.w1.peak_rss_mb = peakRssMb();
  if (redis) out.w1.redis_keys = await countKeys(); // proof that the log went to Redis
  console.error(`w1 ${w1.toFixed(0)} ms, ${chunks} chunks`);

  // W2: the finished run observed from offset 0 and from the middle.
  const total = chunks + 1; // the log also holds the run's iteration-complete event
  for (const [name, offset] of [['w2_offset0', 0], ['w2_middle', Math.floor(total / 2)]]) {
    t0 = performance.now();
    const obs = await big.observe(run.runId, { offset });
    const n = await drain(obs.fullStream);
    const ms = performance.now() - t0;
    out[name] = { ms, offset, chunks: n };
    console.error(`${name} ${ms.toFixed(0)} ms, ${n} chunks`);
  }

  // W3a: 1,000 sequential runs of 50 deltas.
  const small = durableAgent(SMALL, cache);
  const per = [];
  t0 = performance.now();
  let seqChunks = 0;
  for (let i = 0; i < SEQUENTIAL; i++) {
    const s = performance.now();
    const r = await small.stream('go');
    seqChunks += await drain(r.fullStream);
    per.push(performance.now() - s);
  }
  let ms = performance.now() - t0;
  out.w3_sequential = {
    ms,
    runs: SEQUENTIAL,
    runs_per_s: (SEQUENTIAL / ms) * 1000,
    p50_run_ms: median(per),
    chunks: seqChunks,
  };
  out.w3_sequential.peak_rss_mb = peakRssMb();
  console.error(`w3 sequential ${ms.toFixed(0)} ms`);

  // W3b: 200 concurrent runs of 50 deltas.
  t0 = performance.now();
  const counts = await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      const r = await small.stream('go');
      return drain(r.fullStream);
    }),
  );
  ms = performance.now() - t0;
  out.w3_concurrent = {
    ms,
    runs: CONCURRENT,
    runs_per_s: (CONCURRENT / ms) * 1000,
    chunks: counts.reduce((a, b) => a + b, 0),
  };
  out.peak_rss_mb = peakRssMb();
  console.error(`w3 concurrent ${ms.toFixed(0)} ms`);

  if (redis) {
    for await (const keys of redis.scanIterator({ MATCH: `${keyPrefix}*`, COUNT: 1000 })) {
      const batch = Array.isArray(keys) ? keys : [keys];
      if (batch.length) await redis.del(batch);
    }
    await redis.quit();
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  // Durable agents keep cleanup timers (30 s) alive; the figures are out, so leave now.
  process.exit(0);
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});

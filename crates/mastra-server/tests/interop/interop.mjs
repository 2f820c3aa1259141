// The official client (@mastra/client-js 1.47.0) against our server: list agents, agent
// details, generate, stream, and observe the streamed run from an offset. Prints a JSON
// summary for tests/interop.rs to compare with what the server logged; exits 1 on a
// mismatch. Usage: node interop.mjs <server url, e.g. http://127.0.0.1:4111>
import { MastraClient } from "@mastra/client-js";

const baseUrl = process.argv[2];
const client = new MastraClient({ baseUrl, retries: 0 });
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); };
const counted = (n) => Array.from({ length: n }, (_, i) => String(i + 1)).join(" ");

const agents = await client.listAgents();
check(agents["demo-agent"] !== undefined, "listAgents lacks demo-agent: " + JSON.stringify(Object.keys(agents)));
const agent = client.getAgent("demo-agent");
const details = await agent.details();
check(details.name === "demo-agent" || typeof details.name === "string", "details without a name");
check(details.tools && details.tools.weather, "details lack the weather tool");

const output = await agent.generate("count to 5");
check(output.text === counted(5), "generate text: " + JSON.stringify(output.text));

const response = await agent.stream("count to 12");
const chunks = [];
await response.processDataStream({ onChunk: async (chunk) => { chunks.push(chunk); } });
const text = chunks.filter((c) => c.type === "text-delta").map((c) => c.payload.text).join("");
check(text === counted(12), "stream text: " + JSON.stringify(text));
const runId = chunks[0]?.runId;
check(typeof runId === "string" && chunks.every((c) => c.runId === runId), "chunks without one runId");
check(chunks[chunks.length - 1]?.type === "finish", "stream does not end with finish");

const OFFSET = 3;
const observation = await agent.observe({ runId, offset: OFFSET });
const envelopes = [];
await observation.processDataStream({ onChunk: async (envelope) => { envelopes.push(envelope); } });
const indices = envelopes.map((e) => e.index);
check(JSON.stringify(indices) === JSON.stringify(chunks.slice(OFFSET).map((_, i) => i + OFFSET)),
  "observe indices: " + JSON.stringify(indices));

// What the tool route looks like through the official client too.
const weather = await agent.generate("weather in Paris");
check((weather.toolResults || []).length === 1, "weather: no tool result");

console.log(JSON.stringify({
  agents: Object.keys(agents).sort(),
  generateText: output.text,
  runId,
  chunkTypes: chunks.map((c) => c.type),
  observedIndices: indices,
  observedTypes: envelopes.map((e) => e.type),
}));
if (failures.length > 0) {
  console.error(failures.join("\n"));
  process.exit(1);
}

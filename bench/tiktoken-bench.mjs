// The reference peer of the data-prep benchmark: tiktoken's GPT-2 encoder (Rust compiled to WASM) on the
// same JSON-lines corpus. Prints one JSON object: tokens/s per repeat and a hash of every id, in order.
// usage: node tiktoken-bench.mjs <corpus.jsonl> <repeats>
import { readFileSync } from "node:fs";
import { get_encoding } from "@dqbd/tiktoken";

const [corpusPath, repeatsArg] = process.argv.slice(2);
const repeats = Number(repeatsArg ?? 5);
const docs = readFileSync(corpusPath, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l).content);
const enc = get_encoding("gpt2");

function pass() {
  let tokens = 0;
  let hash = 0x811c9dc5;
  for (const doc of docs) {
    const ids = enc.encode_ordinary(doc);
    tokens += ids.length;
    for (const id of ids) {
      hash = Math.imul(hash ^ id, 0x01000193) >>> 0;
    }
  }
  return { tokens, hash };
}

pass(); // warm-up
const seconds = [];
let result;
for (let r = 0; r < repeats; r++) {
  const start = process.hrtime.bigint();
  result = pass();
  seconds.push(Number(process.hrtime.bigint() - start) / 1e9);
}
enc.free();
const sorted = [...seconds].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
console.log(JSON.stringify({
  impl: "tiktoken-wasm (@dqbd/tiktoken 1.0.22, node " + process.version + ")",
  kernels: "Rust compiled to WASM: no BLAS",
  threads: 1,
  documents: docs.length,
  tokens: result.tokens,
  id_hash: result.hash,
  seconds: seconds,
  tokens_per_s_median: Math.round(result.tokens / median),
}));

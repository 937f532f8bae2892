package org.outlierlab.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.outlierlab.dataprep.tokenize.IntList;
import org.outlierlab.dataprep.tokenize.Tokenizer;
import org.outlierlab.dataprep.tokenize.TokenizerSpec;

/**
 * Single-thread tokenisation throughput of a tokenizer on a JSON-lines corpus (text in "content"): the
 * per-core figure the data-prep benchmark compares with tiktoken. Prints one JSON object, including a hash of
 * every id in order so the peer's output can be checked identical.
 * usage: TokenizerBenchmark <tokenizer.json|.model|bytes> <corpus.jsonl> <repeats>
 */
public final class TokenizerBenchmark {
  private TokenizerBenchmark() {}

  public static void main(String[] args) throws Exception {
    String location = args[0];
    TokenizerSpec.Kind kind = TokenizerSpec.kindOf(location);
    byte[] file = kind == TokenizerSpec.Kind.BYTES ? new byte[0] : Files.readAllBytes(Path.of(location));
    TokenizerSpec spec = new TokenizerSpec(kind, location, file, "auto");
    ObjectMapper json = new ObjectMapper();
    List<String> docs = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(args[1]))) {
      if (!line.isBlank()) {
        docs.add(json.readTree(line).get("content").textValue());
      }
    }
    int repeats = Integer.parseInt(args[2]);
    long[] result = pass(spec.create(), docs); // warm-up for the JIT
    double[] seconds = new double[repeats];
    for (int r = 0; r < repeats; r++) {
      Tokenizer fresh = spec.create(); // a cold piece cache each pass, as a task starts with
      long start = System.nanoTime();
      result = pass(fresh, docs);
      seconds[r] = (System.nanoTime() - start) / 1e9;
    }
    double[] sorted = seconds.clone();
    Arrays.sort(sorted);
    ObjectNode out = json.createObjectNode();
    out.put("impl", "outlier-lab " + spec.kind().name().toLowerCase() + " tokenizer (java " + System.getProperty("java.version") + ")");
    out.put("threads", 1);
    out.put("kernels", "scalar Java: tokenising uses no BLAS");
    out.put("documents", docs.size());
    out.put("tokens", result[0]);
    out.put("id_hash", result[1]);
    out.set("seconds", json.valueToTree(seconds));
    out.put("tokens_per_s_median", Math.round(result[0] / sorted[repeats / 2]));
    System.out.println(json.writeValueAsString(out));
  }

  /** Tokens and a 32-bit FNV-1a hash of all ids (the same hash the tiktoken script computes). */
  private static long[] pass(Tokenizer tokenizer, List<String> docs) {
    IntList ids = new IntList(1 << 16);
    long tokens = 0;
    int hash = 0x811c9dc5;
    for (String doc : docs) {
      ids.clear();
      tokenizer.encode(doc, true, ids);
      tokens += ids.size();
      for (int i = 0; i < ids.size(); i++) {
        hash = (hash ^ ids.get(i)) * 0x01000193;
      }
    }
    return new long[] {tokens, hash & 0xffffffffL};
  }
}

package org.outlierlab.dataprep;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.outlierlab.dataprep.tokenize.Tokenizer;
import org.outlierlab.dataprep.tokenize.TokenizerSpec;

/** {@code _manifest.json}: what a token-shard directory holds and how it was made. Deterministic content. */
public final class Manifest {
  public static final String FILE_NAME = "_manifest.json";
  public static final int SCHEMA_VERSION = 1;

  private Manifest() {}

  /**
   * The manifest of a token directory; fails, naming the setting {@code key} it came from and saying to run
   * data-prep, when it has none.
   */
  public static com.fasterxml.jackson.databind.JsonNode read(String tokensDir, String key, Configuration conf)
      throws IOException {
    Path file = new Path(tokensDir, FILE_NAME);
    FileSystem fs = file.getFileSystem(conf);
    if (!fs.exists(file)) {
      throw new java.io.FileNotFoundException(key + ": " + tokensDir + " is not a data-prep output (no " + FILE_NAME
          + "); run bin/oflab data-prep first");
    }
    try (var in = fs.open(file)) {
      return new ObjectMapper().readTree(in);
    }
  }

  public static ObjectNode build(
      DataPrepSettings s, TokenizerSpec spec, Tokenizer tokenizer, PrepStats stats, InputPlanner.Plan plan,
      Map<String, Object> resolvedConfig) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode m = json.createObjectNode();
    m.put("schema_version", SCHEMA_VERSION);
    m.put("format", s.format().name().toLowerCase());
    m.put("mode", s.mode().name().toLowerCase());
    m.put("seq_len", s.seqLen());
    m.put("row_length", s.rowLength());
    m.put("vocab_size", tokenizer.vocabSize());
    ObjectNode tok = m.putObject("tokenizer");
    tok.put("kind", spec.kind().name().toLowerCase());
    tok.put("location", spec.location());
    tok.put("sha256", spec.sha256());
    tok.put("end_of_document_id", tokenizer.endOfDocumentId());
    m.put("files", plan.files());
    m.put("unlisted_files", plan.unlistedFiles());
    m.put("bytes", stats.bytes);
    m.put("documents", stats.documents());
    m.put("tokens", stats.tokens());
    m.put("bad_records_total", stats.badTotal());
    ObjectNode bad = m.putObject("bad_records");
    stats.badRecords.forEach(bad::put);
    ObjectNode splits = m.putObject("splits");
    ObjectNode sequences = m.putObject("sequences");
    stats.splits.forEach((name, c) -> {
      ObjectNode split = splits.putObject(name);
      split.put("documents", c.documents);
      split.put("tokens", c.tokens);
      split.put("sequences", c.sequences);
      split.put("dropped_tokens", c.droppedTokens);
      sequences.put(name, c.sequences);
    });
    m.set("config", json.valueToTree(resolvedConfig));
    return m;
  }

  public static void write(ObjectNode manifest, Path dir, Configuration conf) throws IOException {
    Path path = new Path(dir, FILE_NAME);
    FileSystem fs = path.getFileSystem(conf);
    try (OutputStream out = fs.create(path, true)) {
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .writeValue(out, manifest);
    }
  }
}

package org.outlierlab.jobs.dataprep;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.Main;

/** The data-prep job end to end on a local[2] Spark, through the same entry point bin/oflab uses. */
class DataPrepJobTest {
  static final Path GPT2 = Path.of(System.getProperty("oflab.shared", "../../shared"), "data", "gpt2-tokenizer.json");
  static HuggingFaceTokenizer reference;
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  /** What the jobs this test ran returned, in order. */
  final List<Object> results = new ArrayList<>();

  @BeforeAll
  static void loadReference() throws IOException {
    reference = HuggingFaceTokenizer.builder().optTokenizerPath(GPT2).optAddSpecialTokens(false).optTruncation(false).build();
  }

  @AfterAll
  static void closeReference() {
    reference.close();
  }

  static String[] args(String... extra) {
    List<String> all = new ArrayList<>(List.of("data-prep", "--master", "local[2]", "--spark.ui.enabled", "false"));
    all.addAll(Arrays.asList(extra));
    return all.toArray(new String[0]);
  }

  /** Runs the job in a fresh session (its result goes to {@link #results}); tests read the output in another. */
  int run(String... extra) throws Exception {
    return Main.run(args(extra), results::add);
  }

  static List<Row> readSplit(Path out, String split) {
    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      Path splitDir = out.resolve(split);
      if (!Files.isDirectory(splitDir)) {
        return List.of();
      }
      return spark.read().parquet(splitDir.toString())
          .selectExpr("seq_id", "tokens", "source", "doc_index", "repo_name", "path", "license")
          .orderBy("seq_id").collectAsList();
    } finally {
      spark.stop();
    }
  }

  static JsonNode manifest(Path out) throws IOException {
    return JSON.readTree(out.resolve("_manifest.json").toFile());
  }

  static int[] ids(String text) {
    return Arrays.stream(reference.encode(text).getIds()).mapToInt(Math::toIntExact).toArray();
  }

  static String record(String repo, String path, String content) throws IOException {
    Map<String, String> m = new TreeMap<>();
    m.put("repo_name", repo);
    m.put("path", path);
    m.put("license", "mit");
    m.put("content", content);
    return JSON.writeValueAsString(m);
  }

  static byte[] gzip(String s) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
      gz.write(s.getBytes(StandardCharsets.UTF_8));
    }
    return bytes.toByteArray();
  }

  /** A CodeParrot-format corpus: good records in plain and gzip files, plus every kind of bad input. */
  record Corpus(Path dir, Map<String, List<String>> goodByFile) {}

  Corpus codeParrotCorpus() throws IOException {
    Path in = Files.createDirectories(dir.resolve("codeparrot"));
    Map<String, List<String>> good = new HashMap<>();
    List<String> docsA = new ArrayList<>();
    StringBuilder a = new StringBuilder();
    for (int i = 0; i < 60; i++) {
      String content = "import os\n\ndef f" + i + "(x):\n    return x * " + i + "  # it's fine\n" + "    pass\n".repeat(i % 7);
      docsA.add(content);
      a.append(record("org/repo" + i, "src/f" + i + ".py", content)).append('\n');
      if (i == 10) {
        a.append("{this is not json\n");
      }
      if (i == 20) {
        a.append("{\"repo_name\":\"x\",\"text\":\"no content field\"}\n");
      }
    }
    Files.writeString(in.resolve("a.jsonl"), a.toString());
    List<String> docsB = new ArrayList<>();
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 40; i++) {
      String content = "class Café" + i + ":\n\tdef __init__(self):\n\t\tself.données = '日本語 " + i + "'\n";
      docsB.add(content);
      b.append(record("other/repo", "pkg/m" + i + ".py", content)).append('\n');
    }
    Files.write(in.resolve("b.json.gz"), gzip(b.toString()));
    byte[] bad = {'{', '"', 'c', 'o', 'n', 't', 'e', 'n', 't', '"', ':', '"', (byte) 0xFF, '"', '}', '\n'};
    Files.write(in.resolve("c.jsonl"), bad);
    Files.write(in.resolve("d.jsonl"), new byte[0]);
    byte[] full = gzip(b.toString().repeat(30));
    Files.write(in.resolve("e.json.gz"), Arrays.copyOf(full, full.length / 2));
    Files.writeString(in.resolve("notes.txt"), "not a JSON-lines file: ignored when listing a directory");
    good.put("file:" + in.resolve("a.jsonl"), docsA);
    good.put("file:" + in.resolve("b.json.gz"), docsB);
    return new Corpus(in, good);
  }

  @Test
  void codeParrotIdsEqualTheReferenceEncoderAndNothingIsLost() throws Exception {
    Corpus corpus = codeParrotCorpus();
    Path out = dir.resolve("tokens");
    assertEquals(0, run("--input", corpus.dir().toString(), "--format", "codeparrot", "--tokenizer", GPT2.toString(),
        "--out", out.toString(), "--seq_len", "16", "--validation_fraction", "0.2", "--partition_bytes", "1000",
        "--max_bad_fraction", "0.5"));

    JsonNode m = manifest(out);
    DataPrepResult result = (DataPrepResult) results.get(0);
    assertEquals(out.toString(), result.out());
    assertEquals(m.get("documents").asLong(), result.documents());
    assertEquals(m.get("tokens").asLong(), result.tokens());
    assertEquals(Map.of("train", m.at("/sequences/train").asLong(), "validation", m.at("/sequences/validation").asLong()),
        result.sequences());
    assertEquals(m.get("bad_records_total").asLong(), result.badRecords().values().stream().mapToLong(n -> n).sum());
    assertTrue(result.seconds() > 0 && result.tokenizeSeconds() > 0, result.toString());
    assertEquals(1, m.get("schema_version").asInt());
    assertEquals(50257, m.get("vocab_size").asInt());
    assertEquals(16, m.get("seq_len").asInt());
    assertEquals("huggingface", m.at("/tokenizer/kind").asText());
    assertEquals(64, m.at("/tokenizer/sha256").asText().length());

    // Every good record's reference ids, cut into 16-token chunks, must be in the output exactly once.
    Map<String, int[]> expected = new TreeMap<>();
    long expectedTokens = 0;
    for (Map.Entry<String, List<String>> file : corpus.goodByFile().entrySet()) {
      for (int i = 0; i < file.getValue().size(); i++) {
        int[] all = ids(file.getValue().get(i));
        // doc_index counts every record of the file, bad ones too (a.jsonl has one after records 10 and 20).
        int doc = file.getKey().endsWith("a.jsonl") ? i + (i > 10 ? 1 : 0) + (i > 20 ? 1 : 0) : i;
        expectedTokens += all.length;
        for (int k = 0; k + 16 <= all.length; k += 16) {
          expected.put(file.getKey() + "#" + doc + "#" + k / 16, Arrays.copyOfRange(all, k, k + 16));
        }
      }
    }
    // The truncated gzip file's surviving records are real documents too.
    long truncatedDocs = m.get("documents").asLong() - 100;
    assertTrue(truncatedDocs > 0, "records before the truncation are kept");

    Map<String, int[]> actual = new TreeMap<>();
    Map<String, String> splitOfDoc = new HashMap<>();
    long rows = 0;
    for (String split : List.of("train", "validation")) {
      List<Row> splitRows = readSplit(out, split);
      assertEquals(m.at("/sequences/" + split).asLong(), splitRows.size(), "manifest sequences of " + split);
      rows += splitRows.size();
      Map<String, Integer> chunkIndex = new HashMap<>();
      for (Row r : splitRows) {
        String source = r.getString(2);
        String doc = source + "#" + r.getLong(3);
        assertEquals(split, splitOfDoc.getOrDefault(doc, split), "a document's sequences share a split");
        splitOfDoc.put(doc, split);
        if (source.endsWith("e.json.gz")) {
          continue;
        }
        int k = chunkIndex.merge(doc, 1, Integer::sum) - 1;
        actual.put(doc + "#" + k, r.<Integer>getList(1).stream().mapToInt(Integer::intValue).toArray());
        assertEquals("mit", r.getString(6));
      }
    }
    assertEquals(expected.keySet(), actual.keySet());
    for (String key : expected.keySet()) {
      assertArrayEquals(expected.get(key), actual.get(key), key);
    }
    assertTrue(splitOfDoc.containsValue("validation") && splitOfDoc.containsValue("train"));
    assertEquals(rows, m.at("/splits/train/sequences").asLong() + m.at("/splits/validation/sequences").asLong());

    assertEquals(1, m.at("/bad_records/malformed_json").asInt());
    assertEquals(1, m.at("/bad_records/missing_field").asInt());
    assertEquals(1, m.at("/bad_records/invalid_utf8").asInt());
    assertEquals(1, m.at("/bad_records/empty_file").asInt());
    assertEquals(1, m.at("/bad_records/truncated_gzip").asInt());
    assertEquals(5, m.get("bad_records_total").asInt());
    long tokens = m.at("/splits/train/tokens").asLong() + m.at("/splits/validation/tokens").asLong();
    assertEquals(m.get("tokens").asLong(), tokens);
    assertTrue(tokens > expectedTokens, "tokens include the truncated file's surviving records");
    assertEquals(5, m.get("files").asInt(), "notes.txt is not a JSON-lines file");
    assertFalse(hasHiddenLeftovers(dir), "no staging directories left behind");
  }

  @Test
  void aRerunGivesIdenticalShardsAndAnExistingOutputNeedsOverwrite() throws Exception {
    Corpus corpus = codeParrotCorpus();
    Path out = dir.resolve("tokens");
    String[] common = {"--input", corpus.dir().resolve("*.json*").toString(), "--format", "codeparrot", "--tokenizer",
        GPT2.toString(), "--out", out.toString(), "--seq_len", "8", "--partition_bytes", "2000", "--max_bad_fraction", "1",
        "--validation_fraction", "0.1"};
    run(common);
    Map<String, byte[]> first = snapshot(out);

    Exception refused = assertThrows(Exception.class, () -> run(common));
    assertTrue(refused.getMessage().contains("already exists") && refused.getMessage().contains("--overwrite"),
        refused.getMessage());
    assertEquals(first.keySet(), snapshot(out).keySet(), "refused run leaves the output alone");

    List<String> again = new ArrayList<>(Arrays.asList(common));
    again.add("--overwrite");
    run(again.toArray(new String[0]));
    Map<String, byte[]> second = snapshot(out);
    assertEquals(first.keySet(), second.keySet());
    assertTrue(first.size() > 3, "several shards: " + first.keySet());
    for (String file : first.keySet()) {
      assertArrayEquals(first.get(file), second.get(file), file);
    }
    assertFalse(hasHiddenLeftovers(dir));
  }

  @Test
  void tooManyBadRecordsFailWithTheCountsAndWriteNothing() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(in.resolve("x.jsonl"), "{\"content\":\"ok\"}\nnot json\nnot json either\n");
    Path out = dir.resolve("tokens");
    DataPrepJob.BadInputException e = assertThrows(DataPrepJob.BadInputException.class, () -> run(
        "--input", in.toString(), "--format", "codeparrot", "--out", out.toString()));
    assertTrue(e.getMessage().contains("2 of 3 records are bad"), e.getMessage());
    assertTrue(e.getMessage().contains("malformed_json=2"), e.getMessage());
    assertTrue(e.getMessage().contains("data_prep.max_bad_fraction"), e.getMessage());
    assertFalse(Files.exists(out));
    assertFalse(hasHiddenLeftovers(dir));
  }

  @Test
  void aValidationFractionThatDrawsNoDocumentFailsNamingTheKey() throws Exception {
    Path in = Files.createDirectories(dir.resolve("small"));
    for (int i = 0; i < 5; i++) {
      Files.writeString(in.resolve("f" + i + ".py"), "def f" + i + "():\n    return " + i + "\n");
    }
    Path out = dir.resolve("tokens");
    DataPrepJob.BadInputException e = assertThrows(DataPrepJob.BadInputException.class, () -> run(
        "--input", in.toString(), "--out", out.toString(), "--validation_fraction", "0.01", "--seq_len", "4"));
    assertTrue(e.getMessage().contains("data_prep.validation_fraction = 0.01 drew no validation document from "
        + "these 5 documents") && e.getMessage().contains("0.50 would draw about 3"), e.getMessage());
    assertFalse(Files.exists(out), "nothing written");
    assertFalse(hasHiddenLeftovers(dir));
    assertEquals(0, run("--input", in.toString(), "--out", out.toString(), "--validation_fraction", "0",
        "--seq_len", "4"), "no validation split, asked for");
    assertEquals(0, run("--input", in.toString(), "--out", dir.resolve("tokens2").toString(),
        "--validation_fraction", "0.5", "--seq_len", "4"));
    assertTrue(manifest(dir.resolve("tokens2")).get("splits").get("validation").get("documents").asLong() > 0,
        "a validation split drawn");
  }

  @Test
  void missingInputOrTokenizerFailsAtOnceNamingThePath() throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.writeString(in.resolve("a.txt"), "text");
    FileNotFoundException noInput = assertThrows(FileNotFoundException.class,
        () -> run("--input", dir.resolve("nowhere").toString(), "--out", dir.resolve("o").toString()));
    assertTrue(noInput.getMessage().contains("nowhere"), noInput.getMessage());
    FileNotFoundException noTokenizer = assertThrows(FileNotFoundException.class,
        () -> run("--input", in.toString(), "--tokenizer", "/no/such/tokenizer.json", "--out", dir.resolve("o").toString()));
    assertTrue(noTokenizer.getMessage().contains("/no/such/tokenizer.json"), noTokenizer.getMessage());
    assertFalse(Files.exists(dir.resolve("o")));
  }

  @Test
  void languiniBooksArePackedBySplitFromTheLists() throws Exception {
    Path books = Files.createDirectories(dir.resolve("books"));
    Map<String, String> text = new TreeMap<>();
    for (int i = 0; i < 5; i++) {
      String book = ("Book " + i + " line of prose.\n").repeat(20 + 13 * i);
      text.put("book" + i + ".txt", book);
      Files.writeString(books.resolve("book" + i + ".txt"), book);
    }
    Files.writeString(dir.resolve("train.txt"), "book0.txt\nbook1.txt\nbook2.txt\nmissing.txt\n");
    Files.writeString(dir.resolve("test.txt"), "book3.txt\n");
    Path out = dir.resolve("tokens");
    run("--input", books.toString(), "--format", "languini", "--mode", "pack", "--seq_len", "32",
        "--languini.train_list", dir.resolve("train.txt").toString(),
        "--languini.test_list", dir.resolve("test.txt").toString(), "--out", out.toString(), "--max_bad_fraction", "0.5");

    JsonNode m = manifest(out);
    assertEquals(1, m.at("/bad_records/missing_file").asInt());
    assertEquals(1, m.get("unlisted_files").asInt(), "book4 is on neither list");
    assertEquals(3, m.at("/splits/train/documents").asInt());
    assertEquals(1, m.at("/splits/validation/documents").asInt());
    assertEquals(33, m.get("row_length").asInt());

    // Brute force: the train books' bytes back to back, each followed by end-of-document (256).
    List<Integer> stream = new ArrayList<>();
    for (String name : List.of("book0.txt", "book1.txt", "book2.txt")) {
      for (byte b : text.get(name).getBytes(StandardCharsets.UTF_8)) {
        stream.add(b & 0xff);
      }
      stream.add(256);
    }
    List<Row> train = readSplit(out, "train");
    assertEquals((stream.size() - 1) / 32, train.size());
    for (int w = 0; w < train.size(); w++) {
      int[] expected = stream.subList(32 * w, 32 * w + 33).stream().mapToInt(Integer::intValue).toArray();
      assertArrayEquals(expected, train.get(w).<Integer>getList(1).stream().mapToInt(Integer::intValue).toArray());
    }
  }

  @Test
  void invalidConfigurationFailsBeforeSparkStarts() {
    var unknown = assertThrows(org.outlierlab.jobs.config.ConfigError.class, () -> run("--seq_lenn", "3"));
    assertTrue(unknown.getMessage().contains("data_prep.seq_lenn") && unknown.getMessage().contains("data_prep.seq_len"),
        unknown.getMessage());
    var format = assertThrows(org.outlierlab.jobs.config.ConfigError.class,
        () -> run("--input", "x", "--format", "parquet"));
    assertTrue(format.getMessage().contains("data_prep.format") && format.getMessage().contains("codeparrot, languini, files"),
        format.getMessage());
    var seqLen = assertThrows(org.outlierlab.jobs.config.ConfigError.class, () -> run("--input", "x", "--seq_len", "1"));
    assertTrue(seqLen.getMessage().contains("data_prep.seq_len"), seqLen.getMessage());
    var tokenizer = assertThrows(org.outlierlab.jobs.config.ConfigError.class,
        () -> run("--input", "x", "--tokenizer", "gpt2.vocab"));
    assertTrue(tokenizer.getMessage().contains("'bytes'"), tokenizer.getMessage());
    var active = SparkSession.getActiveSession();
    assertTrue(active.isEmpty() || active.get().sparkContext().isStopped(), "no Spark session was started");
  }

  static Map<String, byte[]> snapshot(Path out) throws IOException {
    Map<String, byte[]> files = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(out)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        files.put(out.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    return files;
  }

  static boolean hasHiddenLeftovers(Path root) throws IOException {
    try (Stream<Path> walk = Files.walk(root)) {
      return walk.anyMatch(p -> p.getFileName().toString().contains(".staging-")
          || p.getFileName().toString().contains(".replaced-") || p.getFileName().toString().endsWith(".tmp"));
    }
  }
}

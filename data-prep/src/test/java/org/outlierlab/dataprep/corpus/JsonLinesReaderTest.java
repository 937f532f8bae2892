package org.outlierlab.dataprep.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

class JsonLinesReaderTest {
  private static final String GOOD1 = "{\"repo_name\":\"a/b\",\"path\":\"x.py\",\"license\":\"mit\",\"content\":\"print(1)\\n\"}";
  private static final String GOOD2 = "{\"content\":\"caf\\u00e9 \\ud83d\\ude00\"}";

  static RecordingSink read(byte[] data, String name) {
    RecordingSink sink = new RecordingSink();
    new JsonLinesReader("content").read(new ByteArrayInputStream(data), name, sink);
    return sink;
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
      gz.write(data);
    }
    return bytes.toByteArray();
  }

  @Test
  void readsDocumentsWithProvenance() {
    RecordingSink sink = read(utf8(GOOD1 + "\n\n" + GOOD2 + "\r\n"), "f.jsonl");
    assertEquals(List.of("print(1)\n", "café \uD83D\uDE00"), sink.texts);
    assertEquals(new DocumentInfo("f.jsonl", 0, "a/b", "x.py", "mit"), sink.infos.get(0));
    DocumentInfo second = sink.infos.get(1);
    assertEquals(1, second.index());
    assertNull(second.repoName());
    assertEquals(Map.of(), sink.bad);
  }

  @Test
  void countsEachKindOfBadLineAndKeepsTheRest() {
    byte[] invalidUtf8 = {'{', '"', 'c', 'o', 'n', 't', 'e', 'n', 't', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    data.writeBytes(utf8(GOOD1 + "\n"));
    data.writeBytes(utf8("{not json\n"));
    data.writeBytes(utf8("[1, 2]\n"));
    data.writeBytes(utf8("{\"text\":\"wrong field\"}\n"));
    data.writeBytes(utf8("{\"content\": 42}\n"));
    data.writeBytes(invalidUtf8);
    data.writeBytes(utf8("\n{\"content\":\"lone \\ud800 surrogate\"}\n"));
    data.writeBytes(utf8(GOOD2 + "\n"));
    RecordingSink sink = read(data.toByteArray(), "f.jsonl");
    assertEquals(2, sink.texts.size());
    assertEquals(Map.of("malformed_json", 2, "missing_field", 2, "invalid_utf8", 1, "invalid_unicode", 1), sink.bad);
  }

  @Test
  void gzipIsReadAndATruncatedStreamKeepsWhatCameBefore() throws IOException {
    StringBuilder many = new StringBuilder();
    for (int i = 0; i < 2000; i++) {
      many.append("{\"content\":\"document number ").append(i).append(" with some padding text\"}\n");
    }
    byte[] gz = gzip(utf8(many.toString()));
    assertEquals(2000, read(gz, "f.json.gz").texts.size());

    RecordingSink truncated = read(Arrays.copyOf(gz, gz.length / 2), "f.json.gz");
    assertEquals(Map.of("truncated_gzip", 1), truncated.bad);
    int kept = truncated.texts.size();
    org.junit.jupiter.api.Assertions.assertTrue(kept > 100 && kept < 2000, "kept " + kept);
    for (int i = 0; i < kept; i++) {
      assertEquals("document number " + i + " with some padding text", truncated.texts.get(i));
    }
  }

  @Test
  void notGzipAtAllIsCorrupt() {
    assertEquals(Map.of("corrupt_gzip", 1), read(utf8(GOOD1), "f.json.gz").bad);
  }

  @Test
  void emptyFilesAreCounted() throws IOException {
    assertEquals(Map.of("empty_file", 1), read(new byte[0], "f.jsonl").bad);
    assertEquals(Map.of("empty_file", 1), read(utf8("\n  \n"), "f.jsonl").bad);
    assertEquals(Map.of("empty_file", 1), read(gzip(new byte[0]), "f.jsonl.gz").bad);
  }
}

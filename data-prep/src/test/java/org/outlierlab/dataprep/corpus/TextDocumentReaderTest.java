package org.outlierlab.dataprep.corpus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TextDocumentReaderTest {
  static RecordingSink read(byte[] data, String name) {
    RecordingSink sink = new RecordingSink();
    new TextDocumentReader().read(new ByteArrayInputStream(data), name, data.length, sink);
    return sink;
  }

  @Test
  void aLargeBookArrivesInSafeSegmentsThatJoinToTheWholeText() {
    StringBuilder book = new StringBuilder();
    for (int i = 0; book.length() < 1_000_000; i++) {
      book.append(i % 17 == 0 ? "  indented line " : "Chapter text é日本 ").append(i).append(i % 5 == 0 ? "\n\n" : "\n");
    }
    RecordingSink sink = read(book.toString().getBytes(StandardCharsets.UTF_8), "book.txt");
    assertEquals(List.of(book.toString()), sink.texts);
    assertTrue(sink.segmentCounts.get(0) >= 8, "streamed in segments: " + sink.segmentCounts);
  }

  @Test
  void invalidUtf8DiscardsTheWholeDocument() {
    byte[] data = "good text\nmore\n".repeat(20000).getBytes(StandardCharsets.UTF_8);
    data[data.length - 3] = (byte) 0xFF;
    RecordingSink sink = read(data, "bad.txt");
    assertEquals(List.of(), sink.texts);
    assertEquals(Map.of("invalid_utf8", 1), sink.bad);
  }

  @Test
  void emptyAndTruncatedFilesAreCounted() throws IOException {
    assertEquals(Map.of("empty_file", 1), read(new byte[0], "e.txt").bad);
    byte[] gz = JsonLinesReaderTest.gzip("some book text\n".repeat(5000).getBytes(StandardCharsets.UTF_8));
    assertEquals(Map.of("truncated_gzip", 1), read(Arrays.copyOf(gz, gz.length - 20), "b.txt.gz").bad);
    assertEquals(List.of("some book text\n".repeat(5000)), read(gz, "b.txt.gz").texts);
  }

  @Test
  void safeCutsNeedALoneLineFeedBeforeText() {
    assertEquals(2, SafeCuts.last("a\nb"));
    assertEquals(-1, SafeCuts.last("a \nb"));
    assertEquals(-1, SafeCuts.last("a\n b"));
    assertEquals(-1, SafeCuts.last("a\n\nb"));
    assertEquals(6, SafeCuts.last("a\nb c\nd  "));
  }
}

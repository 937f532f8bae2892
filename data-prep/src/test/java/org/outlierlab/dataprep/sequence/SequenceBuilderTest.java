package org.outlierlab.dataprep.sequence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.outlierlab.dataprep.DataPrepSettings;
import org.outlierlab.dataprep.PrepStats;
import org.outlierlab.dataprep.corpus.DocumentInfo;
import org.outlierlab.dataprep.tokenize.ByteTokenizer;

/** Chunk and pack mode against a brute-force construction from the documents' byte ids. */
class SequenceBuilderTest {
  record Row(String split, long seqId, int[] tokens, DocumentInfo first) {}

  static DataPrepSettings settings(DataPrepSettings.Mode mode, int seqLen, double validation) {
    return new DataPrepSettings(DataPrepSettings.Format.FILES, List.of("in"), "out", false, "content", "", "",
        "bytes", "auto", seqLen, mode, validation, 0, 0.01, 1);
  }

  static List<String> documents(int n) {
    Random r = new Random(1);
    List<String> docs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      StringBuilder sb = new StringBuilder();
      for (int k = r.nextInt(60); k > 0; k--) {
        sb.append((char) ('a' + r.nextInt(26)));
      }
      docs.add(sb.toString());
    }
    return docs;
  }

  static List<Row> build(DataPrepSettings s, List<String> docs, PrepStats stats) {
    List<Row> rows = new ArrayList<>();
    SequenceBuilder b = new SequenceBuilder(new ByteTokenizer(), s, 3,
        (split, id, tokens, first) -> rows.add(new Row(split, id, tokens, first)), stats);
    for (int i = 0; i < docs.size(); i++) {
      b.begin(new DocumentInfo("src", i, null, null, null));
      String d = docs.get(i);
      // Two segments per document: the builder must treat them as one text.
      b.text(d.substring(0, d.length() / 2));
      b.text(d.substring(d.length() / 2));
      b.end();
    }
    b.finish();
    return rows;
  }

  @Test
  void chunkModeCutsEachDocumentAndDropsItsTail() {
    List<String> docs = documents(200);
    PrepStats stats = new PrepStats();
    List<Row> rows = build(settings(DataPrepSettings.Mode.CHUNK, 8, 0.0), docs, stats);
    List<int[]> expected = new ArrayList<>();
    List<Long> expectedDoc = new ArrayList<>();
    long dropped = 0;
    for (int i = 0; i < docs.size(); i++) {
      byte[] b = docs.get(i).getBytes();
      for (int k = 0; k + 8 <= b.length; k += 8) {
        int[] seq = new int[8];
        for (int j = 0; j < 8; j++) {
          seq[j] = b[k + j];
        }
        expected.add(seq);
        expectedDoc.add((long) i);
      }
      dropped += b.length % 8;
    }
    assertEquals(expected.size(), rows.size());
    for (int i = 0; i < rows.size(); i++) {
      assertArrayEquals(expected.get(i), rows.get(i).tokens());
      assertEquals(expectedDoc.get(i), rows.get(i).first().index());
      assertEquals((3L << 32) | i, rows.get(i).seqId());
    }
    PrepStats.SplitCounts train = stats.splits.get("train");
    assertEquals(docs.size(), train.documents);
    assertEquals(dropped, train.droppedTokens);
    assertEquals(train.tokens, train.sequences * 8 + train.droppedTokens);
  }

  @Test
  void packModeConcatenatesWithEndOfDocumentAndOverlapsByOne() {
    List<String> docs = documents(200);
    PrepStats stats = new PrepStats();
    List<Row> rows = build(settings(DataPrepSettings.Mode.PACK, 16, 0.0), docs, stats);
    List<Integer> stream = new ArrayList<>();
    List<Long> docOf = new ArrayList<>();
    for (int i = 0; i < docs.size(); i++) {
      for (byte b : docs.get(i).getBytes()) {
        stream.add((int) b);
        docOf.add((long) i);
      }
      stream.add(ByteTokenizer.END_OF_DOCUMENT);
      docOf.add((long) i);
    }
    int windows = (stream.size() - 1) / 16;
    assertEquals(windows, rows.size());
    for (int w = 0; w < windows; w++) {
      int[] expected = stream.subList(w * 16, w * 16 + 17).stream().mapToInt(Integer::intValue).toArray();
      assertArrayEquals(expected, rows.get(w).tokens(), "window " + w);
      assertEquals(docOf.get(w * 16), rows.get(w).first().index(), "provenance of window " + w);
    }
    assertEquals(stream.size() - windows * 16L, stats.splits.get("train").droppedTokens);
  }

  @Test
  void hashSplitIsDeterministicAndNearTheFraction() {
    List<String> docs = documents(4000);
    PrepStats a = new PrepStats();
    PrepStats b = new PrepStats();
    List<Row> first = build(settings(DataPrepSettings.Mode.CHUNK, 4, 0.25), docs, a);
    List<Row> second = build(settings(DataPrepSettings.Mode.CHUNK, 4, 0.25), docs, b);
    assertEquals(first.stream().map(Row::split).toList(), second.stream().map(Row::split).toList());
    double share = (double) a.splits.get("validation").documents / docs.size();
    assertEquals(0.25, share, 0.03);
  }

  @Test
  void aBadRecordMidDocumentLeavesNoTrace() {
    PrepStats stats = new PrepStats();
    List<Row> rows = new ArrayList<>();
    SequenceBuilder b = new SequenceBuilder(new ByteTokenizer(), settings(DataPrepSettings.Mode.PACK, 4, 0), 0,
        (split, id, tokens, first) -> rows.add(new Row(split, id, tokens, first)), stats);
    b.begin(new DocumentInfo("src", 0, null, null, null));
    b.text("abcdefghijklmnop");
    b.bad("invalid_utf8");
    b.begin(new DocumentInfo("src", 1, null, null, null));
    b.text("qrstu");
    b.end();
    b.finish();
    assertEquals(1, rows.size());
    assertArrayEquals(new int[] {'q', 'r', 's', 't', 'u'}, rows.get(0).tokens());
    assertEquals(1L, stats.badRecords.get("invalid_utf8"));
    assertEquals(1, stats.documents());
  }
}

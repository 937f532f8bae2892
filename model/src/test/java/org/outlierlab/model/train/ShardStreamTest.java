package org.outlierlab.model.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.dataprep.corpus.DocumentInfo;
import org.outlierlab.dataprep.shard.ShardWriter;
import org.outlierlab.dataprep.shard.TokenShards;
import org.outlierlab.dataprep.shard.TokenShards.Shard;

/** The shard-by-shard batch stream: coverage, determinism, the workers' split, memory, and its errors. */
class ShardStreamTest {
  private static final int[] SIZES = {7, 3, 11, 5, 9, 2}; // 37 rows
  private static final int ROW = 5;

  private final Map<String, Integer> reads = new HashMap<>();

  private static List<Shard> shards() {
    List<Shard> shards = new ArrayList<>();
    for (int s = 0; s < SIZES.length; s++) {
      shards.add(new Shard("shard-" + s, SIZES[s]));
    }
    return shards;
  }

  /** Row i of shard s holds s·1000 + i in every token, so a row names itself. */
  private int[][] read(String path) {
    reads.merge(path, 1, Integer::sum);
    int s = Integer.parseInt(path.substring("shard-".length()));
    int[][] rows = new int[SIZES[s]][ROW];
    for (int i = 0; i < rows.length; i++) {
      java.util.Arrays.fill(rows[i], s * 1000 + i);
    }
    return rows;
  }

  private ShardStream stream(int batch, int workers, int worker, long seed, long window) {
    return new ShardStream(shards(), ROW, batch, workers, worker, seed, window, this::read);
  }

  @Test
  void anEpochVisitsEveryRowAtMostOnceAcrossWorkers() {
    int workers = 3;
    int batch = 2;
    long stepsPerEpoch = 37 / (workers * batch);
    for (long window : new long[] {0, 4, 8, 100}) {
      Set<Integer> seen = new HashSet<>();
      for (int w = 0; w < workers; w++) {
        ShardStream s = stream(batch, workers, w, 7, window);
        for (long k = 0; k < stepsPerEpoch; k++) {
          for (int[] row : s.batch(k)) {
            assertTrue(seen.add(row[0]), "row " + row[0] + " twice in an epoch, window " + window);
          }
        }
      }
      assertEquals(stepsPerEpoch * workers * batch, seen.size());
    }
  }

  /** Worker w's part of a step is the w-th slice of what one worker taking all of the step's rows gets. */
  @Test
  void workersSplitEachStepOfOneStream() {
    ShardStream whole = stream(6, 1, 0, 3, 8);
    List<ShardStream> parts = List.of(stream(2, 3, 0, 3, 8), stream(2, 3, 1, 3, 8), stream(2, 3, 2, 3, 8));
    for (long k = 0; k < 20; k++) { // more than three epochs
      int[][] all = whole.batch(k);
      for (int w = 0; w < 3; w++) {
        int[][] part = parts.get(w).batch(k);
        assertArrayEquals(java.util.Arrays.copyOfRange(all, 2 * w, 2 * w + 2), part, "step " + k + " worker " + w);
      }
    }
  }

  @Test
  void aBatchIsAPureFunctionOfSeedAndStep() {
    ShardStream sequential = stream(4, 1, 0, 11, 8);
    List<int[][]> batches = new ArrayList<>();
    for (long k = 0; k < 30; k++) {
      batches.add(sequential.batch(k));
    }
    ShardStream resumed = stream(4, 1, 0, 11, 8);
    for (long k : new long[] {17, 3, 29, 0}) {
      assertArrayEquals(batches.get((int) k), resumed.batch(k), "step " + k);
    }
    assertFalse(java.util.Arrays.deepEquals(batches.get(0), stream(4, 1, 0, 12, 8).batch(0)), "another seed");
    assertFalse(java.util.Arrays.deepEquals(batches.get(0), batches.get(9)), "epoch 1 is drawn anew"); // 9 steps/epoch
  }

  /** Rows are shuffled across the shards of a window, not read shard after shard. */
  @Test
  void rowsOfAWindowAreMixedAcrossShards() {
    Set<Integer> shardsInFirstBatch = new HashSet<>();
    for (int[] row : stream(8, 1, 0, 5, 0).batch(0)) {
      shardsInFirstBatch.add(row[0] / 1000);
    }
    assertTrue(shardsInFirstBatch.size() >= 3, "the first batch comes from shards " + shardsInFirstBatch);
  }

  @Test
  void atMostTwoWindowsAreHeldAndEachShardIsReadOncePerEpoch() {
    ShardStream s = stream(2, 1, 0, 5, 8);
    for (long k = 0; k < 18; k++) { // one epoch: 37 / 2 = 18 steps
      s.batch(k);
      assertTrue(s.loadedRows() <= 2 * (8 + 11), "held " + s.loadedRows() + " rows at step " + k);
    }
    assertEquals(SIZES.length, reads.size());
    assertTrue(reads.values().stream().allMatch(n -> n == 1), reads.toString());
    ShardStream whole = stream(2, 1, 0, 5, 0);
    whole.batch(0);
    assertEquals(37, whole.loadedRows());
  }

  /** Two Parquet shards written as data-prep writes them: listed with their footers' counts, every row streamed. */
  @Test
  void streamsRealParquetShards(@TempDir java.nio.file.Path dir) throws Exception {
    Configuration conf = new Configuration();
    String tokens = dir.toString();
    int[] rowsPerShard = {10, 7};
    for (int part = 0; part < 2; part++) {
      try (ShardWriter w = new ShardWriter(conf, new Path(tokens), part, "t")) {
        for (int i = 0; i < rowsPerShard[part]; i++) {
          int id = part * 100 + i;
          w.write("train", id, new int[] {id, id, id, id, id}, new DocumentInfo("s", id, null, null, null));
        }
        w.commit();
      }
    }
    java.nio.file.Files.writeString(dir.resolve("_manifest.json"), "{}");
    List<Shard> shards = TokenShards.list(tokens, "train", conf);
    assertEquals(List.of(10L, 7L), shards.stream().map(Shard::rows).toList());
    ShardStream s = new ShardStream(shards, ROW, 1, 1, 0, 9, 0, path -> TokenShards.readShard(path, conf));
    Set<Integer> seen = new HashSet<>();
    for (long k = 0; k < 17; k++) {
      seen.add(s.batch(k)[0][0]);
    }
    Set<Integer> expected = new HashSet<>();
    for (int[] row : TokenShards.read(tokens, "train", conf)) {
      expected.add(row[0]);
    }
    assertEquals(expected, seen);
    assertEquals(17, seen.size());
  }

  @Test
  void errorsNameTheFix() {
    IllegalArgumentException tooFew = assertThrows(IllegalArgumentException.class, () -> stream(10, 4, 0, 1, 0));
    assertTrue(tooFew.getMessage().contains("train.batch_size = 10 on 4 workers"), tooFew.getMessage());
    ShardStream wrongLength = new ShardStream(shards(), ROW + 1, 2, 1, 0, 1, 0, this::read);
    IllegalArgumentException length = assertThrows(IllegalArgumentException.class, () -> wrongLength.batch(0));
    assertTrue(length.getMessage().contains("set model.seq_len to " + (ROW - 1)), length.getMessage());
    List<Shard> lying = new ArrayList<>(shards());
    lying.set(0, new Shard("shard-0", 8));
    ShardStream changed = new ShardStream(lying, ROW, 2, 1, 0, 1, 0, this::read);
    IllegalStateException footer = assertThrows(IllegalStateException.class, () -> changed.batch(0));
    assertTrue(footer.getMessage().contains("shard-0 holds 7 rows; its footer said 8"), footer.getMessage());
  }
}

package org.outlierlab.jobs.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.Stdout;
import org.outlierlab.jobs.sql.WarehouseViews;
import org.outlierlab.metrics.LayerStats;
import org.outlierlab.model.run.Snapshots;

/** Snapshots with a planted outlier neuron and known values, written in the project's schema, through the job. */
class MetricsJobTest {
  @TempDir Path dir;
  /** What the jobs this test ran returned, in order. */
  final List<Object> results = new java.util.ArrayList<>();
  static final int B = 3;
  static final int T = 5;
  static final int D = 8;

  /** Layer 0: only neuron 3 is non-zero (kurtosis exactly D). Layer 1: Gaussian with an outlier neuron. */
  Map<String, float[][]> plant(String run, long step) throws Exception {
    Random r = new Random(step);
    float[][] layer0 = new float[B * T][D];
    float[][] layer1 = new float[B * T][D];
    for (int i = 0; i < B * T; i++) {
      layer0[i][3] = 1 + i;
      for (int j = 0; j < D; j++) {
        layer1[i][j] = (float) (r.nextGaussian() * (j == 5 ? 20 : 1));
      }
    }
    Map<String, INDArray> acts = new HashMap<>();
    acts.put("resid_attn_in_0", Nd4j.create(layer0).reshape(B, T, D).castTo(DataType.FLOAT));
    acts.put("resid_attn_in_1", Nd4j.create(layer1).reshape(B, T, D).castTo(DataType.FLOAT));
    acts.put("attn_probs_0", Nd4j.valueArrayOf(new long[] {B, 2, T, T}, 1.0f / T));
    Snapshots.write(run, step, acts, B, 2, new org.apache.hadoop.fs.Path(dir.resolve("wh/runs/" + run + "/snapshots").toString()),
        new Configuration());
    java.nio.file.Files.writeString(dir.resolve("wh/runs/" + run + "/config.conf"), "model {\n  seq_len = " + T
        + "\n}\ntrain {\n  probe_inputs = " + (run.startsWith("fixed") ? "fixed" : "batch") + "\n}\n");
    return Map.of("0", layer0, "1", layer1);
  }

  String[] args() {
    return new String[] {"metrics", "--master", "local[2]", "--spark.ui.enabled", "false",
        "--runs", dir.resolve("wh").toString(), "--warehouse", dir.resolve("wh").toString()};
  }

  @Test
  void statisticsOfPlantedSnapshotsMatchADirectComputationAndRerunsReplace() throws Exception {
    Map<String, float[][]> a = plant("run-a", 0);
    plant("run-a", 10);
    plant("run-b", 0);
    assertEquals(0, Main.run(args()));
    assertEquals(0, Main.run(args(), results::add)); // a rerun replaces the run's rows
    MetricsResult result = (MetricsResult) results.get(0);
    assertEquals(2, result.snapshotDirs().size(), result.snapshotDirs().toString());
    assertEquals(3 * 2 * B * T, result.tokenRows(), "three snapshots of two layers of B x T tokens");
    assertEquals(dir.resolve("wh").toString() + "/layer_metrics", result.table());

    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      spark.read().parquet(dir.resolve("wh/layer_metrics").toString()).createOrReplaceTempView("layer_metrics");
      assertEquals(result.rowsWritten(), spark.sql("SELECT count(*) FROM layer_metrics").first().getLong(0),
          "the rerun's rows replaced the first run's");
      Map<String, Double> m = new HashMap<>();
      for (Row row : spark.sql("SELECT layer, metric, value FROM layer_metrics WHERE run_id = 'run-a' AND step = 0 "
          + "AND site = 'resid_attn_in'").collectAsList()) {
        m.put(row.getInt(0) + "/" + row.getString(1), row.getDouble(2));
      }
      assertEquals(D, m.get("0/kurtosis"), 1e-9, "one live neuron: kurtosis = d");
      LayerStats direct = new LayerStats(D, true);
      for (float[] row : a.get("1")) {
        direct.add(row);
      }
      direct.metrics().forEach((k, v) -> assertEquals(v, m.get("1/" + k), 1e-9 * Math.max(1, Math.abs(v)), k));
      // within-sequence similarity, brute force over the B probe sequences of T tokens
      float[][] x = a.get("1");
      double[] raw = sameSequencePairs(x, false, direct.metrics().get("act_rms"));
      assertEquals(raw[0], m.get("1/signal_prop_mean_seq"), 1e-9);
      assertEquals(raw[1], m.get("1/signal_prop_rms_seq"), 1e-9);
      double[] centred = sameSequencePairs(x, true, direct.metrics().get("act_rms_width_centred"));
      assertEquals(centred[0], m.get("1/signal_prop_mean_seq_width_centred"), 1e-9);
      assertEquals(centred[1], m.get("1/signal_prop_rms_seq_width_centred"), 1e-9);

      double entropy = spark.sql("SELECT value FROM layer_metrics WHERE run_id = 'run-a' AND metric = 'attn_entropy' "
          + "AND step = 0 AND layer = 0").first().getDouble(0);
      assertEquals(Math.log(T), entropy, 1e-6, "uniform attention over T keys");

      long perRunStep = spark.sql("SELECT count(*) FROM layer_metrics WHERE run_id = 'run-a' AND step = 0").first().getLong(0);
      long total = spark.sql("SELECT count(*) FROM layer_metrics").first().getLong(0);
      assertEquals(3 * perRunStep, total, "three (run, step) groups, no duplicates after the rerun");
      List<Row> runs = spark.sql("SELECT DISTINCT run_id FROM layer_metrics ORDER BY run_id").collectAsList();
      assertEquals(List.of("run-a", "run-b"), runs.stream().map(r -> r.getString(0)).toList());
    } finally {
      spark.stop();
    }
  }

  /**
   * {mean, RMS} of x_i·x_j / (D·r²) over ordered pairs i ≠ j of the same probe sequence, the rows taken as they
   * are or each centred across the width first.
   */
  static double[] sameSequencePairs(float[][] x, boolean widthCentred, double r) {
    double sum = 0;
    double sumSq = 0;
    int pairs = 0;
    for (int i = 0; i < B * T; i++) {
      for (int j = 0; j < B * T; j++) {
        if (i != j && i / T == j / T) {
          double meanI = widthCentred ? mean(x[i]) : 0;
          double meanJ = widthCentred ? mean(x[j]) : 0;
          double g = 0;
          for (int k = 0; k < D; k++) {
            g += (x[i][k] - meanI) * (x[j][k] - meanJ);
          }
          g /= D * r * r;
          sum += g;
          sumSq += g * g;
          pairs++;
        }
      }
    }
    return new double[] {sum / pairs, Math.sqrt(sumSq / pairs)};
  }

  static double mean(float[] row) {
    double s = 0;
    for (float v : row) {
      s += v;
    }
    return s / row.length;
  }

  @Test
  void theSqlJobQueriesTheWarehouseTables() throws Exception {
    plant("run-a", 0);
    Main.run(args());
    String views = java.nio.file.Files.readString(dir.resolve("wh").resolve(WarehouseViews.FILE));
    assertTrue(views.contains("VIEW layer_metrics") && views.contains("VIEW snapshots"), "metrics wrote " + views);
    String wh = dir.resolve("wh").toString();
    String table = Stdout.capture(() -> assertEquals(0, Main.run(new String[] {"sql", "--master", "local[1]",
        "--spark.ui.enabled", "false", "--warehouse", wh,
        "SELECT site, count(DISTINCT token_index) AS tokens FROM snapshots JOIN layer_metrics USING (run_id, step, layer, site) "
            + "WHERE metric = 'kurtosis' GROUP BY site"})));
    assertTrue(table.contains("|resid_attn_in|" + (B * T)), table);
  }

  @Test
  void aPathWithoutSnapshotsIsNamed() {
    FileNotFoundException e = assertThrows(FileNotFoundException.class, () -> Main.run(new String[] {"metrics",
        "--master", "local[1]", "--spark.ui.enabled", "false", "--runs", dir.resolve("nothing").toString()}));
    assertTrue(e.getMessage().contains("nothing"), e.getMessage());
  }

  @Test
  void aSelectionWritesOnlyItsStatisticsWithTheFullSelectionsValues() throws Exception {
    plant("fixed-a", 0);
    plant("fixed-a", 1);
    assertEquals(0, Main.run(args(), results::add));
    List<Row> full = layerMetrics();
    List<String> selection = List.of("mmr_max", "signal_prop_rms_seq", "u4_2_cum");
    assertEquals(0, Main.run(java.util.stream.Stream.concat(java.util.Arrays.stream(args()),
        java.util.stream.Stream.of("--stats", String.join(",", selection))).toArray(String[]::new), results::add));
    List<Row> some = layerMetrics();
    assertEquals(full.stream().filter(r -> selection.contains(r.getString(4))).toList(), some);
    assertEquals(selection, some.stream().map(r -> r.getString(4)).distinct().sorted().toList());
    assertEquals(((MetricsResult) results.get(0)).tokenRows(), ((MetricsResult) results.get(1)).tokenRows());
  }

  @Test
  void layerMetricsAreTheSameBitForBitWhateverTheClustersParallelism() throws Exception {
    for (long step = 0; step < 3; step++) {
      plant("fixed-a", step);
      // a second file of each snapshot, so that a layer's rows span input partitions
      java.nio.file.Path file = dir.resolve(String.format("wh/runs/fixed-a/snapshots/step-%012d.parquet", step));
      java.nio.file.Files.copy(file, file.resolveSibling("copy-" + file.getFileName()));
    }
    List<List<Row>> runs = new java.util.ArrayList<>();
    for (String master : List.of("local[1]", "local[3]")) {
      String[] args = args();
      args[2] = master;
      // file splits as small as the data allows, so that the cores' count would change the partitions
      assertEquals(0, Main.run(java.util.stream.Stream.concat(java.util.Arrays.stream(args),
          java.util.stream.Stream.of("--spark.sql.files.openCostInBytes", "1")).toArray(String[]::new)));
      runs.add(layerMetrics());
    }
    assertTrue(runs.get(0).size() > 100, "every statistic of every layer: " + runs.get(0).size());
    assertEquals(runs.get(0).size(), runs.get(1).size());
    List<String> differing = new java.util.ArrayList<>();
    for (int i = 0; i < runs.get(0).size(); i++) {
      if (!runs.get(0).get(i).equals(runs.get(1).get(i))) {
        differing.add(runs.get(0).get(i) + " vs " + runs.get(1).get(i));
      }
    }
    assertEquals(List.of(), differing, "layer_metrics on 1 and on 3 cores");
  }

  @Test
  void aSnapshotBeingWrittenIsNotReadAndASecondWriterWaitsForTheFirst() throws Exception {
    plant("run-a", 0);
    long start = System.nanoTime();
    assertEquals(0, Main.run(args()));
    long oneRunMillis = (System.nanoTime() - start) / 1_000_000;
    List<Row> before = layerMetrics();
    List<String> files = files(dir.resolve("wh/layer_metrics"));
    // a training job writing its next snapshot: the staging file AtomicOutput names, half written
    Files.write(dir.resolve("wh/runs/run-a/snapshots/.step-000000000010.parquet.w.tmp"), new byte[] {'P', 'A', 'R', '1', 0});
    var table = new org.apache.hadoop.fs.Path(dir.resolve("wh/layer_metrics").toString());
    var lockPath = new org.apache.hadoop.fs.Path(table.getParent(), ".layer_metrics.lock");
    var other = org.outlierlab.dataprep.fs.FileLock.tryAcquire(lockPath, "another metrics job", new Configuration());
    var pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    var second = pool.submit(() -> Main.run(args()));
    Thread.sleep(2 * oneRunMillis + 2000); // long enough to have written, had it not waited
    // (files, not a query: a second SparkSession in this JVM would share, and stop, the waiting job's context)
    assertTrue(!second.isDone() && files(dir.resolve("wh/layer_metrics")).equals(files),
        "waits, and layer_metrics stays as it was");
    other.close();
    assertEquals(0, second.get());
    pool.shutdown();
    assertEquals(before, layerMetrics(), "the half-written snapshot was not read");
  }

  @Test
  void aFileThatIsNotASnapshotIsNamedWithHowToSetItAsideAndNothingIsWritten() throws Exception {
    plant("run-a", 0);
    assertEquals(0, Main.run(args()));
    List<Row> before = layerMetrics();
    List<String> files = files(dir.resolve("wh/layer_metrics"));
    Path stray = dir.resolve("wh/runs/run-a/snapshots/step-000000000099.parquet");
    Path layerMetricsFile;
    try (var all = Files.walk(dir.resolve("wh/layer_metrics"))) {
      layerMetricsFile = all.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
    }
    Files.copy(layerMetricsFile, stray); // another table's file, put there by mistake
    var other = assertThrows(Snapshots.NotASnapshotException.class, () -> Main.run(args()));
    assertTrue(other.getMessage().startsWith("snapshot file file:" + stray + " is not a snapshot: its columns are [")
        && other.getMessage().contains("a snapshot's are [run_id binary, step int64, layer int32, site binary,"
            + " token_index int32, values.list.element float]")
        && other.getMessage().contains("mv " + stray + " " + stray.getParent() + "/.step-000000000099.parquet"
            + ".not-a-snapshot"), other.getMessage());
    Files.write(stray, new byte[] {'n', 'o', 't', ' ', 'P', 'A', 'R', '1'});
    var damaged = assertThrows(Snapshots.NotASnapshotException.class, () -> Main.run(args()));
    assertTrue(damaged.getMessage().contains("is not a snapshot: it is not a readable Parquet file ("),
        damaged.getMessage());
    assertEquals(files, files(dir.resolve("wh/layer_metrics")), "layer_metrics untouched");
    Files.move(stray, stray.resolveSibling(".step-000000000099.parquet.not-a-snapshot")); // as the message says
    assertEquals(0, Main.run(args()));
    assertEquals(before, layerMetrics(), "set aside, the file is not read");
  }

  /** The files under {@code root} with their modification times. */
  static List<String> files(Path root) throws java.io.IOException {
    try (var walk = Files.walk(root)) {
      return walk.filter(Files::isRegularFile).map(f -> f + "@" + f.toFile().lastModified()).sorted().toList();
    }
  }

  /** layer_metrics in a fixed order, its columns in {@link MetricsJob#SCHEMA}'s (the selection keeps the schema). */
  List<Row> layerMetrics() {
    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      return spark.read().parquet(dir.resolve("wh/layer_metrics").toString()).select("run_id", "step", "layer", "site",
          "metric", "value").orderBy("run_id", "step", "layer", "site", "metric").collectAsList();
    } finally {
      spark.stop();
    }
  }

  /** m2 and m4 of a snapshot (App D, SCIENCE.md §4), brute force. */
  static double[] moments(float[][] x) {
    double m2 = 0;
    double m4 = 0;
    for (int j = 0; j < D; j++) {
      double s2 = 0;
      for (float[] row : x) {
        s2 += (double) row[j] * row[j];
      }
      s2 /= x.length;
      m2 += s2 / D;
      m4 += s2 * s2 / D;
    }
    return new double[] {m2, m4};
  }

  @Test
  void theKurtosisUpdateTermsOfFixedProbeRunsSumToTheMomentChanges() throws Exception {
    float[][][] x = {plant("fixed-a", 0).get("1"), plant("fixed-a", 1).get("1"), plant("fixed-a", 2).get("1")};
    plant("fixed-a", 7); // five steps after the last: not one step's update, so never paired
    plant("run-b", 0);
    plant("run-b", 10);
    assertEquals(0, Main.run(args()));
    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      spark.read().parquet(dir.resolve("wh/layer_metrics").toString()).createOrReplaceTempView("layer_metrics");
      Map<String, Double> m = new HashMap<>();
      for (Row row : spark.sql("SELECT step, metric, value FROM layer_metrics WHERE run_id = 'fixed-a' AND layer = 1 "
          + "AND site = 'resid_attn_in' AND metric LIKE 'u%'").collectAsList()) {
        m.put(row.getLong(0) + "/" + row.getString(1), row.getDouble(2));
      }
      double cum2 = 0;
      for (int k = 0; k < 2; k++) {
        long step = k;
        double[] before = moments(x[k]);
        double[] after = moments(x[k + 1]);
        double u2 = m.get(step + "/u2_1") + m.get(step + "/u2_2");
        double u4 = m.get(step + "/u4_1") + m.get(step + "/u4_2") + m.get(step + "/u4_3") + m.get(step + "/u4_4");
        assertEquals(after[0] - before[0], u2, 1e-9 * Math.abs(before[0]), "Δm2 from step " + step);
        assertEquals(after[1] - before[1], u4, 1e-9 * Math.abs(before[1]), "Δm4 from step " + step);
        cum2 += m.get(step + "/u2_2");
        assertEquals(cum2, m.get(step + "/u2_2_cum"), 1e-12, "cumulative sum at step " + step);
      }
      assertTrue(!m.containsKey("2/u2_1") && !m.containsKey("7/u2_1"),
          "snapshots five steps apart give no per-step terms, and none follow the last: " + m.keySet());
      long others = spark.sql("SELECT count(*) FROM layer_metrics WHERE run_id = 'run-b' AND metric LIKE 'u%'")
          .first().getLong(0);
      assertEquals(0, others, "a run whose probes change every step gets no decomposition");
    } finally {
      spark.stop();
    }
  }

  @Test
  void aSampledRunAggregatesExactlyTheChosenTokens() throws Exception {
    float[][] layer1 = plant("run-a", 0).get("1");
    String wh = dir.resolve("wh").toString();
    assertEquals(0, Main.run(new String[] {"metrics", "--master", "local[2]", "--spark.ui.enabled", "false", "--runs", wh,
        "--warehouse", wh, "--sample_fraction", "0.5"}));
    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      List<Row> kept = spark.sql("SELECT id FROM range(" + (B * T) + ") WHERE pmod(xxhash64('run-a', CAST(id AS INT)), "
          + "1000000) < 500000").collectAsList();
      assertTrue(kept.size() > 0 && kept.size() < B * T, "a real subset: " + kept.size());
      LayerStats direct = new LayerStats(D, true);
      kept.forEach(r -> direct.add(layer1[(int) r.getLong(0)]));
      spark.read().parquet(wh + "/layer_metrics").createOrReplaceTempView("layer_metrics");
      double kurtosis = spark.sql("SELECT value FROM layer_metrics WHERE layer = 1 AND site = 'resid_attn_in' "
          + "AND metric = 'kurtosis'").first().getDouble(0);
      assertEquals(direct.metrics().get("kurtosis"), kurtosis, 1e-9);
    } finally {
      spark.stop();
    }
    var zero = assertThrows(org.outlierlab.jobs.config.ConfigError.class, () -> Main.run(new String[] {"metrics",
        "--runs", wh, "--sample_fraction", "0"}));
    assertTrue(zero.getMessage().contains("metrics.sample_fraction"), zero.getMessage());
  }
}

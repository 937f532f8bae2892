package org.outlierlab.jobs.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.sql.WarehouseViews;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.TransformerLM;
import org.outlierlab.model.blas.BlasKernels;
import org.outlierlab.model.io.ArrayCodec;
import org.outlierlab.model.run.Checkpoint;
import org.outlierlab.model.train.TrainSettings;
import org.outlierlab.model.train.Trainer;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * data-prep then train, through the CLI, as a new user runs them (two workers averaging their parameters unless
 * a test says otherwise); the run's tables read with Spark SQL.
 */
class TrainJobTest {
  @TempDir Path dir;
  /** What the jobs this test ran returned, in order. */
  final List<Object> results = new java.util.ArrayList<>();

  String tokens() throws Exception {
    return org.outlierlab.jobs.TestTokens.prepare(dir);
  }

  String[] train(String tokens, String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("train", "--master", "local[2]", "--spark.ui.enabled", "false",
        "--workers", "2", "--averaging_frequency", "3", "--tokens", tokens, "--warehouse", dir.resolve("wh").toString(),
        "--run_id", "tiny", "--steps", "12", "--batch_size", "4", "--log_interval", "4", "--eval_interval", "6",
        "--checkpoint_interval", "6", "--snapshot_steps", "[0, 11]", "--snapshot_interval", "0", "--probe", "2",
        "--model.block", "op", "--model.d_model", "16", "--model.n_layers", "2", "--model.n_heads", "2"));
    args.addAll(List.of(extra));
    return args.toArray(new String[0]);
  }

  @Test
  void trainsOnDataPrepOutputAndWritesTablesSparkCanQuery() throws Exception {
    String tokens = tokens();
    assertEquals(0, Main.run(train(tokens), results::add));
    TrainResult result = (TrainResult) results.get(results.size() - 1);
    Path run = dir.resolve("wh/runs/tiny");
    assertEquals("tiny", result.runId());
    assertEquals(run.toString(), result.runDir());
    assertEquals(0, result.firstStep());
    assertEquals(12, result.steps());
    assertTrue(result.trained() && result.seconds() > 0 && result.averagingOverheadSeconds() >= 0, result.toString());
    assertTrue(result.overheadBreakdown().startsWith("broadcast "), result.overheadBreakdown());
    assertTrue(Files.exists(run.resolve("config.conf")));
    assertTrue(Files.exists(run.resolve("checkpoints/checkpoint-000000000012.bin")));

    ConfigError exists = assertThrows(ConfigError.class, () -> Main.run(train(tokens)));
    assertTrue(exists.getMessage().contains("--resume"), exists.getMessage());

    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      spark.read().parquet(run.resolve("snapshots").toString()).createOrReplaceTempView("snapshots");
      spark.read().parquet(run.resolve("train_log").toString()).createOrReplaceTempView("train_log");
      assertEquals("run_id:string,step:bigint,layer:int,site:string,token_index:int,values:array<float>",
          spark.table("snapshots").schema().fields().length == 6
              ? String.join(",", java.util.Arrays.stream(spark.table("snapshots").schema().fields())
                  .map(f -> f.name() + ":" + f.dataType().simpleString()).toList()) : "");
      List<Row> perSite = spark.sql("SELECT step, site, layer, count(*), max(size(values)) FROM snapshots "
          + "WHERE site = 'resid_attn_in' GROUP BY step, site, layer ORDER BY step, layer").collectAsList();
      assertEquals(4, perSite.size());
      for (Row r : perSite) {
        assertEquals(2 * 16L, r.getLong(3), "probe 2 sequences of 16 tokens");
        assertEquals(16, r.getInt(4), "d_model values per token");
      }
      WarehouseViews views = WarehouseViews.scan(dir.resolve("wh").toString(), "sql.warehouse",
          spark.sparkContext().hadoopConfiguration());
      views.register(spark);
      assertEquals(List.of("train_log", "snapshots", "runs"), views.views());
      Row info = spark.sql("SELECT run_id, block, status, steps, last_loss IS NOT NULL, config, workers, backend, "
          + "averaging_s >= 0, blas FROM runs").first();
      assertEquals("tiny", info.getString(0));
      assertEquals("op", info.getString(1));
      assertEquals("finished", info.getString(2));
      assertEquals(12L, info.getLong(3));
      assertTrue(info.getBoolean(4));
      assertTrue(info.getString(5).contains("block=op"), info.getString(5));
      assertEquals(2, info.getInt(6));
      assertTrue(info.getString(7).contains("worker 0: CpuBackend") && info.getString(7).contains("worker 1:"),
          info.getString(7));
      assertTrue(info.getBoolean(8), "averaging overhead recorded");
      assertEquals(BlasKernels.current().orElseThrow().describe(), info.getString(9), "the workers' BLAS path");
      assertTrue(info.getString(7).contains(info.getString(9)), "named in the workers' start lines too");
      List<Row> log = spark.sql("SELECT step, loss, val_loss FROM train_log ORDER BY step").collectAsList();
      assertEquals(List.of(3L, 5L, 7L, 11L), log.stream().map(r -> r.getLong(0)).toList());
      assertTrue(log.stream().allMatch(r -> Double.isFinite(r.getDouble(1))));
      Row recorded = spark.sql("SELECT rounds, last_loss, last_val_loss FROM runs").first();
      assertEquals(recorded.getLong(0), result.rounds(), "the job's result is what run_info records");
      assertEquals(recorded.getDouble(1), result.lastLoss());
      assertEquals(recorded.getDouble(2), result.lastValLoss());
      assertEquals(log.get(3).getDouble(1), result.lastLoss(), "the last logged step's loss");
    } finally {
      spark.stop();
    }
  }

  @Test
  void aStoppedRunResumesWithResume() throws Exception {
    String tokens = tokens();
    Main.run(train(tokens, "--steps", "6"), results::add);
    assertEquals(0, Main.run(train(tokens, "--resume"), results::add));
    assertTrue(Files.exists(dir.resolve("wh/runs/tiny/checkpoints/checkpoint-000000000012.bin")));
    TrainResult first = (TrainResult) results.get(0);
    TrainResult resumed = (TrainResult) results.get(1);
    assertEquals(List.of(0L, 6L), List.of(first.firstStep(), first.steps()));
    assertEquals(List.of(6L, 12L), List.of(resumed.firstStep(), resumed.steps()), "continued from the checkpoint");
    assertEquals(0, Main.run(train(tokens, "--resume"), results::add));
    TrainResult again = (TrainResult) results.get(2);
    assertFalse(again.trained());
    assertEquals(List.of("train: run tiny already finished its 12 steps; nothing to do"), again.summary());
    ConfigError nothing = assertThrows(ConfigError.class, () -> Main.run(train(tokens, "--run_id", "other", "--resume")));
    assertTrue(nothing.getMessage().contains("no run other"), nothing.getMessage());
  }

  @Test
  void aRunBeingTrainedByAnotherJobIsRefusedWithItsHolderNamed() throws Exception {
    String tokens = tokens();
    var layout = org.outlierlab.model.run.RunLayout.in(dir.resolve("wh").toString(), "tiny");
    try (var other = org.outlierlab.dataprep.fs.FileLock.tryAcquire(layout.lock(), "train tiny",
        new org.apache.hadoop.conf.Configuration())) {
      for (String[] args : List.of(train(tokens), train(tokens, "--resume"))) {
        ConfigError held = assertThrows(ConfigError.class, () -> Main.run(args));
        assertTrue(held.getMessage().contains("is being trained by another job (host ")
            && held.getMessage().contains("pid " + ProcessHandle.current().pid()), held.getMessage());
      }
      assertFalse(Files.exists(dir.resolve("wh/runs/tiny")), "the refused job wrote nothing");
    }
    assertEquals(0, Main.run(train(tokens, "--steps", "3")), "the lock released, the run trains");
    assertFalse(Files.exists(Path.of(layout.lock().toUri().getPath())), "and releases the lock when done");
  }

  @Test
  void modelSettingsAreValidatedBeforeTraining() {
    ConfigError heads = assertThrows(ConfigError.class, () -> Main.run(train(tokens(), "--model.n_heads", "3")));
    assertTrue(heads.getMessage().contains("model.d_model") && heads.getMessage().contains("n_heads"), heads.getMessage());
    ConfigError block = assertThrows(ConfigError.class, () -> Main.run(train(dir.toString(), "--model.block", "pre-xx")));
    assertTrue(block.getMessage().contains("pre-ln, post-ln, pre-rms, pre-srms, op"), block.getMessage());
    ConfigError threads = assertThrows(ConfigError.class, () -> Main.run(train(dir.toString(), "--threads", "0")));
    assertTrue(threads.getMessage().contains("train.threads") && threads.getMessage().contains("auto or a positive"),
        threads.getMessage());
    ConfigError window = assertThrows(ConfigError.class,
        () -> Main.run(train(dir.toString(), "--snapshot_window", "[5]")));
    assertTrue(window.getMessage().contains("train.snapshot_window = [5]") && window.getMessage().contains("[from, to]"),
        window.getMessage());
    ConfigError layers = assertThrows(ConfigError.class,
        () -> Main.run(train(dir.toString(), "--snapshot_layers", "[0, 3]")));
    assertTrue(layers.getMessage().contains("train.snapshot_layers contains 3")
        && layers.getMessage().contains("allowed: 0 to 2"), layers.getMessage());
    ConfigError blas = assertThrows(ConfigError.class, () -> Main.run(train(dir.toString(), "--blas.kernels", "fast")));
    assertTrue(blas.getMessage().contains("blas.kernels = 'fast'") && blas.getMessage().contains("auto | openblas |"),
        blas.getMessage());
  }

  Checkpoint last(String runId) throws Exception {
    return Checkpoint.latest(new org.apache.hadoop.fs.Path(dir.resolve("wh/runs/" + runId + "/checkpoints").toString()),
        new org.apache.hadoop.conf.Configuration()).orElseThrow();
  }

  static void assertSameState(Checkpoint expected, Checkpoint actual) {
    assertEquals(expected.step(), actual.step());
    assertEquals(expected.params().keySet(), actual.params().keySet());
    expected.params().forEach((k, v) -> assertEquals(v, actual.params().get(k), k + " differs"));
    expected.optimizerState().forEach((k, v) -> assertEquals(v, actual.optimizerState().get(k), k + " differs"));
  }

  @Test
  void twoWorkersTrainAndTheLossFalls() throws Exception {
    assertEquals(0, Main.run(train(tokens(), "--steps", "30", "--lr", "1e-2", "--log_interval", "1")));
    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      List<Row> log = spark.read().parquet(dir.resolve("wh/runs/tiny/train_log").toString())
          .orderBy("step").select("loss").collectAsList();
      assertEquals(30, log.size());
      double first = log.get(0).getDouble(0);
      double last = log.get(29).getDouble(0);
      assertTrue(last < 0.7 * first, "loss " + first + " -> " + last);
    } finally {
      spark.stop();
    }
  }

  @Test
  void oneWorkerGivesExactlyTheSingleProcessRun() throws Exception {
    String tokens = tokens();
    assertEquals(0, Main.run(train(tokens, "--workers", "1")));
    // auto: local[2]'s two cores to the one worker, recorded in the run's config (and used by the Trainer below)
    assertTrue(Files.readString(dir.resolve("wh/runs/tiny/config.conf")).contains("threads=2"));
    trainSingleProcess(tokens);
    assertSameState(last("single"), last("tiny"));
  }

  /**
   * SOAP's eigenbases through rounds: two workers refresh theirs inside every round (frequency 2, rounds of 3), so
   * the average recomputes them; one worker keeps its own and is still exactly the single-process run.
   */
  @Test
  void soapTrainsOnWorkersAndOneWorkerIsTheSingleProcessRun() throws Exception {
    String tokens = tokens();
    String[] soap = {"--optimizer", "soap", "--precondition_frequency", "2"};
    assertEquals(0, Main.run(train(tokens, concat(soap, "--run_id", "two"))));
    assertTrue(last("two").optimizerState().containsKey("QL/h0_wq"), last("two").optimizerState().keySet().toString());
    assertEquals(0, Main.run(train(tokens, concat(soap, "--workers", "1"))));
    trainSingleProcess(tokens);
    assertSameState(last("single"), last("tiny"));
  }

  static String[] concat(String[] a, String... b) {
    return java.util.stream.Stream.concat(java.util.Arrays.stream(a), java.util.Arrays.stream(b)).toArray(String[]::new);
  }

  /** The single-process Trainer, built from run tiny's own resolved configuration, as run single. */
  private void trainSingleProcess(String tokens) throws Exception {
    Config resolved = ConfigFactory.parseFile(dir.resolve("wh/runs/tiny/config.conf").toFile())
        .withValue("train.run_id", ConfigValueFactory.fromAnyRef("single")).resolve();
    ConfigReader c = new ConfigReader(resolved);
    JsonNode manifest = org.outlierlab.dataprep.Manifest.read(tokens, "train.tokens", new org.apache.hadoop.conf.Configuration());
    ModelConfig model = TrainConfig.model(c, manifest.get("vocab_size").asInt(), manifest.get("row_length").asInt());
    TrainSettings settings = TrainConfig.settings(c, "op");
    new Trainer(new TransformerLM(model, DataType.FLOAT, settings.seed()), TrainConfig.optimizer(c).create(), settings,
        new org.apache.hadoop.conf.Configuration(), line -> { }).run(false);
  }

  @Test
  void averagingIsExactOnAConstructedCase() {
    java.util.function.Function<double[], java.util.Map<String, byte[]>> state = v -> ArrayCodec.encode(java.util.Map.of(
        "w", Nd4j.createFromArray(v).reshape(2, 2), "step", Nd4j.scalar(DataType.LONG, 7L)));
    List<ParameterAveraging.RoundResult> results = List.of(
        new ParameterAveraging.RoundResult(0, state.apply(new double[] {1, 2, 3, 4}), state.apply(new double[] {0.5, 0, 0, 8}),
            new double[] {2}, new double[] {0.1}, new double[] {1}, java.util.Map.of(), null, "", 0),
        new ParameterAveraging.RoundResult(1, state.apply(new double[] {3, 2, 1, 0}), state.apply(new double[] {1.5, 1, 0, 0}),
            new double[] {4}, new double[] {0.1}, new double[] {3}, java.util.Map.of(), null, "", 0));
    var params = ParameterAveraging.average(results, ParameterAveraging.RoundResult::params);
    assertEquals(Nd4j.createFromArray(2.0, 2.0, 2.0, 2.0).reshape(2, 2), params.get("w"));
    var adam = new org.outlierlab.model.optim.AdamW(0.9, 0.99, 1e-8, 0);
    var optimizer = adam.averaged(ParameterAveraging.sum(results, ParameterAveraging.RoundResult::optimizerState), 2);
    assertEquals(Nd4j.createFromArray(1.0, 0.5, 0.0, 4.0).reshape(2, 2), optimizer.get("w"));
    assertEquals(7L, optimizer.get("step").getLong(0), "the step count is not a sum");
    var perStep = ParameterAveraging.perStep(results, 5, 6);
    assertEquals(3.0, perStep.get(0).loss());
    assertEquals(2.0, perStep.get(0).gradNorm());
    assertEquals(5L, perStep.get(0).step());
  }

  @Test
  void aFailedWorkerIsRetriedWithoutChangingTheRun() throws Exception {
    String tokens = tokens();
    assertEquals(0, Main.run(train(tokens, "--run_id", "straight")));
    ParameterAveraging.failFirstAttemptOfRound = 1;
    try {
      assertEquals(0, Main.run(train(tokens, "--master", "local[2,2]"))); // two attempts per task
    } finally {
      ParameterAveraging.failFirstAttemptOfRound = -1;
    }
    assertSameState(last("straight"), last("tiny"));
  }

  @Test
  void aKilledRunResumedFromItsCheckpointContinuesExactly() throws Exception {
    String tokens = tokens();
    assertEquals(0, Main.run(train(tokens, "--run_id", "straight")));
    ParameterAveraging.failFirstAttemptOfRound = 2; // rounds [0,3) [3,6) then a checkpoint; [6,9) dies
    try {
      Exception killed = assertThrows(Exception.class, () -> Main.run(train(tokens)));
      assertTrue(String.valueOf(killed.getMessage()).contains("injected failure")
          || String.valueOf(killed.getCause()).contains("injected failure"), String.valueOf(killed));
    } finally {
      ParameterAveraging.failFirstAttemptOfRound = -1;
    }
    assertEquals(6, last("tiny").step());
    assertEquals(0, Main.run(train(tokens, "--resume")));
    assertSameState(last("straight"), last("tiny"));
  }

  @Test
  void aConfigurationThatCannotFitFailsBeforeTrainingWithTheFix() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> MemoryCheck.require(
        ModelConfig.of(ModelConfig.Block.PRE_LN, 50257, 768, 6, 12, 128), 4096, DataType.FLOAT, 1, 1));
    assertTrue(e.getMessage().contains("train.batch_size") && e.getMessage().contains("OFLAB_OFFHEAP_MEMORY"),
        e.getMessage());
    // the estimate against the measured 1.1 GB of the benchmark's small shape (B=16)
    long small = MemoryCheck.estimateBytes(ModelConfig.of(ModelConfig.Block.PRE_LN, 8192, 256, 4, 4, 128), 16,
        DataType.FLOAT, 1);
    assertTrue(small > 0.8e9 && small < 1.5e9, "estimate " + small);
  }

  /** Runs the metrics job over the test's warehouse; a session with its layer_metrics as a view (the caller stops it). */
  private SparkSession metricsOfTheWarehouse() throws Exception {
    String wh = dir.resolve("wh").toString();
    assertEquals(0, Main.run(new String[] {"metrics", "--master", "local[2]", "--spark.ui.enabled", "false", "--runs", wh,
        "--warehouse", wh}));
    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    spark.read().parquet(wh + "/layer_metrics").createOrReplaceTempView("layer_metrics");
    return spark;
  }

  @Test
  void fixedProbeSnapshotsFeedTheKurtosisUpdateDecomposition() throws Exception {
    assertEquals(0, Main.run(train(tokens(), "--probe_inputs", "fixed", "--snapshot_window", "[0, 3]",
        "--snapshot_steps", "[8]", "--snapshot_layers", "[1]")));
    SparkSession spark = metricsOfTheWarehouse();
    try {
      List<Row> steps = spark.sql("SELECT DISTINCT step FROM layer_metrics WHERE metric = 'u4_2' AND site = 'resid_attn_in' "
          + "ORDER BY step").collectAsList();
      assertEquals(List.of(0L, 1L, 2L), steps.stream().map(r -> r.getLong(0)).toList(),
          "the one-step pairs of the window; 3 to 8 is not one step");
      assertEquals(List.of(1), spark.sql("SELECT DISTINCT layer FROM layer_metrics").collectAsList().stream()
          .map(r -> r.getInt(0)).toList(), "only the chosen layer was captured");
      assertTrue(spark.sql("SELECT min(value) FROM layer_metrics WHERE metric = 'u4_2'").first().getDouble(0) >= 0);
    } finally {
      spark.stop();
    }
  }

  @Test
  void normOutputSitesAreSnapshottedAndAggregatedLikeAnyOther() throws Exception {
    String tokens = tokens();
    ConfigError bad = assertThrows(ConfigError.class,
        () -> Main.run(train(tokens, "--snapshot_sites", "[resid_attn_in, ln_out]")));
    assertTrue(bad.getMessage().contains("train.snapshot_sites contains 'ln_out'")
        && bad.getMessage().contains("norm_attn_out"), bad.getMessage());
    assertEquals(0, Main.run(train(tokens, "--model.block", "pre-ln", "--steps", "2", "--snapshot_steps", "[0, 1]",
        "--snapshot_sites", "[resid_attn_in, norm_attn_out, norm_mlp_out]")));
    SparkSession spark = metricsOfTheWarehouse();
    try {
      List<Row> rows = spark.sql("SELECT site, count(DISTINCT step), count(DISTINCT layer), min(value) FROM layer_metrics "
          + "WHERE metric = 'kurtosis' GROUP BY site ORDER BY site").collectAsList();
      assertEquals(List.of("norm_attn_out", "norm_mlp_out", "resid_attn_in"), rows.stream().map(r -> r.getString(0)).toList());
      for (Row r : rows) {
        assertEquals(2L, r.getLong(1), r.getString(0) + ": both snapshot steps");
        assertEquals(2L, r.getLong(2), r.getString(0) + ": both layers");
        assertTrue(r.getDouble(3) >= 1, r.getString(0) + ": Eq 1 kurtosis is at least 1");
      }
      // LayerNorm's output has unit mean square per token at init: its activation RMS is 1 (gain 1, bias 0).
      double rms = spark.sql("SELECT value FROM layer_metrics WHERE metric = 'act_rms' AND site = 'norm_attn_out' "
          + "AND step = 0 AND layer = 0").first().getDouble(0);
      assertEquals(1.0, rms, 1e-3);
    } finally {
      spark.stop();
    }
  }
}


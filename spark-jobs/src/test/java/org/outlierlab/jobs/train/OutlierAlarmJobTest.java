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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.sql.WarehouseViews;
import org.outlierlab.model.run.Checkpoint;

/**
 * The outlier alarm through the CLI on {@link TrainJobTest}'s tiny runs: a threshold every layer exceeds stops a
 * run at a snapshot step with status outliers, its alarms readable as a view and its checkpoint the exact state
 * there; the default thresholds raise nothing on a run without outliers.
 */
class OutlierAlarmJobTest {
  @TempDir Path dir;
  final TrainJobTest runs = new TrainJobTest();
  final List<Object> results = runs.results;

  @BeforeEach
  void shareTheDirectory() {
    runs.dir = dir;
  }

  String tokens() throws Exception {
    return runs.tokens();
  }

  String[] train(String tokens, String... extra) {
    return runs.train(tokens, extra);
  }

  /** Snapshots at 0 and 8 (a round starts there and runs to 11), checked from step 5: only step 8's. */
  String[] alarmed(String tokens, String... extra) {
    return train(tokens, TrainJobTest.concat(new String[] {"--snapshot_steps", "[0, 8]", "--alarm.warmup_steps", "5",
        "--alarm.rules", "[kurtosis]", "--alarm.kurtosis", "1", "--alarm.action", "stop"}, extra));
  }

  @Test
  void aRaisedAlarmStopsTheRunAtItsStepWithACheckpointThatResumesExactly() throws Exception {
    String tokens = tokens();
    // the same run without stopping: the default thresholds, checked from step 0, raise nothing
    assertEquals(0, Main.run(train(tokens, "--run_id", "straight", "--snapshot_steps", "[0, 8]",
        "--alarm.warmup_steps", "0")));
    assertFalse(Files.exists(dir.resolve("wh/runs/straight/alarms")), "no alarm without outliers");

    assertEquals(0, Main.run(alarmed(tokens), results::add));
    TrainResult stopped = (TrainResult) results.get(0);
    assertTrue(stopped.outliers() && stopped.steps() == 8, stopped.toString());
    assertTrue(stopped.summary().get(0).contains("stopped by the outlier alarm at step 8"), stopped.summary().get(0));
    assertEquals(8, last("tiny").step(), "the checkpoint of the alarm's step is the last");

    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      WarehouseViews views = WarehouseViews.scan(dir.resolve("wh").toString(), "sql.warehouse",
          spark.sparkContext().hadoopConfiguration());
      views.register(spark);
      assertTrue(views.views().contains("alarms"), views.views().toString());
      assertEquals("outliers 8", row(spark.sql("SELECT status, steps FROM runs WHERE run_id = 'tiny'").first()));
      List<Row> alarms = spark.sql("SELECT run_id, step, layer, site, rule, threshold, action, value FROM alarms "
          + "ORDER BY layer").collectAsList();
      assertEquals(List.of("tiny 8 0 resid_attn_in kurtosis 1.0 stop", "tiny 8 1 resid_attn_in kurtosis 1.0 stop"),
          alarms.stream().map(r -> row(r).substring(0, row(r).lastIndexOf(' '))).toList());
      // each value is Eq 1 of the snapshot the step wrote, computed in SQL as the README does
      List<Row> eq1 = spark.sql("WITH x AS (SELECT layer, j, v FROM snapshots LATERAL VIEW posexplode(values) t AS j, v"
          + " WHERE run_id = 'tiny' AND step = 8 AND site = 'resid_attn_in'),"
          + " n AS (SELECT layer, j, avg(v * v) AS ms FROM x GROUP BY layer, j)"
          + " SELECT layer, avg(ms * ms) / (avg(ms) * avg(ms)) FROM n GROUP BY layer ORDER BY layer").collectAsList();
      for (int layer = 0; layer < 2; layer++) {
        assertEquals(eq1.get(layer).getDouble(1), alarms.get(layer).getDouble(7), 1e-6, "layer " + layer);
      }
      assertTrue(alarms.get(0).getDouble(7) > 1);
    } finally {
      spark.stop();
    }

    // resumed without the stop, it ends where the straight run did, without a train_log row twice
    assertEquals(0, Main.run(alarmed(tokens, "--resume", "--alarm.action", "warn"), results::add));
    TrainResult resumed = (TrainResult) results.get(1);
    assertEquals(List.of(8L, 12L, false), List.of(resumed.firstStep(), resumed.steps(), resumed.outliers()));
    TrainJobTest.assertSameState(last("straight"), last("tiny"));
    spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      assertEquals(List.of(3L, 5L, 7L, 11L), spark.read().parquet(dir.resolve("wh/runs/tiny/train_log").toString())
          .orderBy("step").collectAsList().stream().map(r -> r.getLong(1)).toList());
      assertEquals(List.of("warn", "warn"), spark.read().parquet(dir.resolve("wh/runs/tiny/alarms").toString())
          .collectAsList().stream().map(r -> r.getString(7)).toList(), "step 8's alarms replaced, not added");
    } finally {
      spark.stop();
    }
  }

  @Test
  void alarmSettingsAreValidatedBeforeTraining() {
    ConfigError action = assertThrows(ConfigError.class, () -> Main.run(train(dir.toString(), "--alarm.action", "explode")));
    assertTrue(action.getMessage().contains("train.alarm.action = 'explode'")
        && action.getMessage().contains("allowed: off, warn, stop"), action.getMessage());
    ConfigError rule = assertThrows(ConfigError.class, () -> Main.run(train(dir.toString(), "--alarm.rules", "[kurt]")));
    assertTrue(rule.getMessage().contains("train.alarm.rules contains 'kurt'")
        && rule.getMessage().contains("kurtosis, max_median_ratio, massive_activation, growth"), rule.getMessage());
    ConfigError site = assertThrows(ConfigError.class,
        () -> Main.run(train(dir.toString(), "--alarm.sites", "[resid_mlp_in]")));
    assertTrue(site.getMessage().contains("train.alarm.sites = [resid_mlp_in]")
        && site.getMessage().contains("train.snapshot_sites"), site.getMessage());
    ConfigError threshold = assertThrows(ConfigError.class,
        () -> Main.run(train(dir.toString(), "--alarm.kurtosis", "-1")));
    assertTrue(threshold.getMessage().contains("train.alarm.kurtosis = -1"), threshold.getMessage());
  }

  private static String row(Row r) {
    return String.join(" ", java.util.stream.IntStream.range(0, r.size()).mapToObj(i -> String.valueOf(r.get(i))).toList());
  }

  private Checkpoint last(String runId) throws Exception {
    return runs.last(runId);
  }
}

package org.outlierlab.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.config.ConfigError;

/** data-prep then train, through the CLI, as a new user runs them; the run's tables read with Spark SQL. */
class TrainJobTest {
  @TempDir Path dir;

  String tokens() throws Exception {
    Path corpus = Files.createDirectories(dir.resolve("corpus"));
    for (int i = 0; i < 20; i++) {
      Files.writeString(corpus.resolve("f" + i + ".py"), ("def f" + i + "(x):\n    return x + " + i + "\n").repeat(20));
    }
    String out = dir.resolve("tokens").toString();
    Main.run(new String[] {"data-prep", "--master", "local[2]", "--spark.ui.enabled", "false", "--input", corpus.toString(),
        "--mode", "pack", "--seq_len", "16", "--validation_fraction", "0.2", "--out", out});
    return out;
  }

  String[] train(String tokens, String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("train", "--tokens", tokens, "--warehouse", dir.resolve("wh").toString(),
        "--run_id", "tiny", "--steps", "12", "--batch_size", "4", "--log_interval", "4", "--eval_interval", "6",
        "--checkpoint_interval", "6", "--snapshot_steps", "[0, 11]", "--snapshot_interval", "0", "--probe", "2",
        "--model.block", "op", "--model.d_model", "16", "--model.n_layers", "2", "--model.n_heads", "2"));
    args.addAll(List.of(extra));
    return args.toArray(new String[0]);
  }

  @Test
  void trainsOnDataPrepOutputAndWritesTablesSparkCanQuery() throws Exception {
    String tokens = tokens();
    assertEquals(0, Main.run(train(tokens)));
    Path run = dir.resolve("wh/runs/tiny");
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
      assertEquals(List.of("train_log", "snapshots", "runs"), SqlJob.register(spark, dir.resolve("wh").toString()));
      Row info = spark.sql("SELECT run_id, block, status, steps, last_loss IS NOT NULL, config FROM runs").first();
      assertEquals("tiny", info.getString(0));
      assertEquals("op", info.getString(1));
      assertEquals("finished", info.getString(2));
      assertEquals(12L, info.getLong(3));
      assertTrue(info.getBoolean(4));
      assertTrue(info.getString(5).contains("block=op"), info.getString(5));
      List<Row> log = spark.sql("SELECT step, loss, val_loss FROM train_log ORDER BY step").collectAsList();
      assertEquals(List.of(3L, 5L, 7L, 11L), log.stream().map(r -> r.getLong(0)).toList());
      assertTrue(log.stream().allMatch(r -> Double.isFinite(r.getDouble(1))));
    } finally {
      spark.stop();
    }
  }

  @Test
  void aStoppedRunResumesWithResume() throws Exception {
    String tokens = tokens();
    Main.run(train(tokens, "--steps", "6"));
    assertEquals(0, Main.run(train(tokens, "--resume")));
    assertTrue(Files.exists(dir.resolve("wh/runs/tiny/checkpoints/checkpoint-000000000012.bin")));
    ConfigError nothing = assertThrows(ConfigError.class, () -> Main.run(train(tokens, "--run_id", "other", "--resume")));
    assertTrue(nothing.getMessage().contains("no run other"), nothing.getMessage());
  }

  @Test
  void modelSettingsAreValidatedBeforeTraining() {
    ConfigError heads = assertThrows(ConfigError.class, () -> Main.run(train(tokens(), "--model.n_heads", "3")));
    assertTrue(heads.getMessage().contains("model.d_model") && heads.getMessage().contains("n_heads"), heads.getMessage());
    ConfigError block = assertThrows(ConfigError.class, () -> Main.run(train(dir.toString(), "--model.block", "pre-xx")));
    assertTrue(block.getMessage().contains("pre-ln, post-ln, pre-rms, pre-srms, op"), block.getMessage());
  }
}

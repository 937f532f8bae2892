package org.outlierlab.jobs.grid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.TestTokens;
import org.outlierlab.jobs.sql.WarehouseViews;

/**
 * A grid of two points trained as a user runs it: listed by a dry run, trained part way (an interrupted grid),
 * resumed with one point failing on a damaged checkpoint while the other goes on, then finished by a rerun that
 * skips the finished point; every point's row in runs, with its grid and point, and its layer_metrics.
 */
class GridJobTest {
  @TempDir static Path dir;
  static String tokens;

  @BeforeAll
  static void prepare() throws Exception {
    tokens = TestTokens.prepare(dir);
  }

  /** A grid file as a user writes one: base settings, then the grid section; its warehouse is {@code <name>-wh}. */
  static String gridFile(String name, String axes) throws Exception {
    Path file = dir.resolve(name + ".conf");
    Files.writeString(file, """
        model { d_model = 16, n_layers = 2, n_heads = 2 }
        train {
          tokens = "%s"
          warehouse = "%s"
          steps = 6
          batch_size = 4
          log_interval = 3
          eval_interval = 3
          checkpoint_interval = 3
          snapshot_steps = [0, 5]
          snapshot_interval = 0
          probe = 2
        }
        metrics.stats = [kurtosis, mmr_max]
        grid {
          name = %s
          axes = %s
        }
        """.formatted(tokens, dir.resolve(name + "-wh"), name, axes));
    return file.toString();
  }

  static GridResult grid(String file, String... extra) throws Exception {
    List<Object> results = new ArrayList<>();
    List<String> args = new ArrayList<>(List.of("grid", "--conf", file, "--master", "local[2]",
        "--spark.ui.enabled", "false"));
    args.addAll(List.of(extra));
    assertEquals(0, Main.run(args.toArray(new String[0]), results::add));
    return (GridResult) results.get(0);
  }

  static List<String> results(GridResult r) {
    return r.outcomes().stream().map(GridJob.Outcome::result).toList();
  }

  @Test
  void trainsEveryPointResumesTheUnfinishedAndReportsAFailedOne() throws Exception {
    String file = gridFile("g", "[{ key = model.block, values = [pre-ln, op] }, { key = train.lr, values = [1e-2] }]");
    Path runs = dir.resolve("g-wh/runs");

    GridResult dry = grid(file, "--dry-run");
    assertTrue(dry.dryRun() && dry.outcomes().isEmpty());
    assertFalse(Files.exists(runs), "a dry run trains nothing");

    GridResult first = grid(file, "--train.steps", "3"); // stands for a grid interrupted at step 3
    assertEquals(List.of("g-pre-ln-lr0.01", "g-op-lr0.01"), first.outcomes().stream().map(o -> o.point().runId())
        .toList());
    assertEquals(List.of("new", "new"), first.outcomes().stream().map(GridJob.Outcome::before).toList());
    assertEquals(List.of("trained to step 3", "trained to step 3"), results(first));
    assertEquals(2, first.measured().size());

    Path checkpoint = runs.resolve("g-op-lr0.01/checkpoints/checkpoint-000000000003.bin");
    Path saved = dir.resolve("saved.bin");
    Files.copy(checkpoint, saved);
    Files.write(checkpoint, new byte[] {1, 2, 3, 4});
    var failed = assertThrows(GridJob.PointsFailedException.class, () -> grid(file));
    assertTrue(failed.getMessage().contains("1 of 2 points failed (g-op-lr0.01)"), failed.getMessage());
    assertTrue(Files.exists(runs.resolve("g-pre-ln-lr0.01/checkpoints/checkpoint-000000000006.bin")),
        "the other point went on to its end");

    Files.copy(saved, checkpoint, StandardCopyOption.REPLACE_EXISTING);
    GridResult last = grid(file);
    assertEquals(List.of("finished", "to resume from step 3 (failed)"),
        last.outcomes().stream().map(GridJob.Outcome::before).toList());
    assertEquals(List.of("finished", "trained to step 6"), results(last));
    assertEquals(List.of(runs.resolve("g-op-lr0.01").toString()), last.measured(), "only the run trained now");
    assertTrue(Double.isFinite(last.outcomes().get(1).lastValLoss()));

    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      WarehouseViews.scan(dir.resolve("g-wh").toString(), "sql.warehouse", spark.sparkContext().hadoopConfiguration())
          .register(spark);
      List<String> rows = spark.sql("SELECT run_id, grid, point, status, steps, block FROM runs ORDER BY run_id")
          .collectAsList().stream().map(Row::toString).toList();
      assertEquals(List.of("[g-op-lr0.01,g,model.block=op, train.lr=0.01,finished,6,op]",
          "[g-pre-ln-lr0.01,g,model.block=pre-ln, train.lr=0.01,finished,6,pre-ln]"), rows);
      assertEquals("op", spark.sql("SELECT str_to_map(point, ', ', '=')['model.block'] FROM runs "
          + "WHERE run_id = 'g-op-lr0.01'").first().getString(0), "the point's values, by key, in SQL");
      List<String> measured = spark.sql("SELECT DISTINCT run_id, step FROM layer_metrics WHERE metric = 'kurtosis' "
          + "ORDER BY run_id, step").collectAsList().stream().map(Row::toString).toList();
      assertEquals(List.of("[g-op-lr0.01,0]", "[g-op-lr0.01,5]", "[g-pre-ln-lr0.01,0]", "[g-pre-ln-lr0.01,5]"),
          measured);
    } finally {
      spark.stop();
    }
  }

  @Test
  void aDivergedPointIsAResultNotAFailureAndIsNotTrainedAgain() throws Exception {
    String file = gridFile("d", "[{ key = train.lr, values = [100] }]");
    GridResult first = grid(file, "--model.block", "pre-ln", "--train.clip", "0");
    assertEquals(List.of("diverged"), results(first));
    GridResult again = grid(file, "--model.block", "pre-ln", "--train.clip", "0");
    assertEquals("diverged", again.outcomes().get(0).before());
    assertEquals(List.of("skipped: diverged"), results(again));
  }
}

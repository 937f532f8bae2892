package org.outlierlab.jobs.grid;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigLoader;

/** Grid files into points: the cross product, run ids and labels, every point validated, bad axes refused. */
class GridSettingsTest {
  @TempDir Path dir;

  GridSettings read(String grid, Map<String, String> overrides) throws Exception {
    Path file = dir.resolve("grid.conf");
    Files.writeString(file, grid);
    return GridSettings.read(ConfigLoader.load(List.of(file.toString()), overrides));
  }

  GridSettings read(String grid) throws Exception {
    return read(grid, Map.of());
  }

  ConfigError refused(String grid) {
    return assertThrows(ConfigError.class, () -> read(grid));
  }

  @Test
  void crossesTheAxesFirstSlowestWithReadableRunIdsAndLabels() throws Exception {
    GridSettings s = read("""
        grid.name = sweep
        grid.axes = [
          { key = model.block, values = [pre-ln, op] }
          { key = train.lr, values = [1e-3, 3.0e-4, 0.01] }
          { key = model.final_norm, values = [true, false] }
        ]
        """);
    assertEquals(12, s.points().size());
    assertEquals("sweep-pre-ln-lr1e-3-final_norm", s.points().get(0).runId());
    assertEquals("sweep-pre-ln-lr1e-3-no_final_norm", s.points().get(1).runId());
    assertEquals("sweep-pre-ln-lr3e-4-final_norm", s.points().get(2).runId());
    assertEquals("sweep-op-lr0.01-no_final_norm", s.points().get(11).runId());
    assertEquals("model.block=op, train.lr=0.01, model.final_norm=false", s.points().get(11).label());
    var last = s.train().get(11);
    assertEquals("sweep-op-lr0.01-no_final_norm", last.run().runId());
    assertEquals("op", last.block());
    assertEquals(0.01, last.recorded().getDouble("train.lr"), 0);
    assertEquals("sweep", last.grid());
    assertEquals(s.points().get(11).label(), last.point());
    assertTrue(last.run().runDir().endsWith("warehouse/runs/sweep-op-lr0.01-no_final_norm"), last.run().runDir());
    assertEquals(12, s.points().stream().map(GridPoint::runId).distinct().count());
  }

  @Test
  void numbersAreWrittenAsAReaderWouldWriteThem() {
    Map<String, String> cases = Map.of("1e-3", "1e-3", "0.001", "1e-3", "3e-4", "3e-4", "1.5e-4", "1.5e-4",
        "0.01", "0.01", "6e-3", "6e-3", "80000", "80000", "1e8", "1e8", "0", "0", "0.2", "0.2");
    cases.forEach((typed, written) -> assertEquals(written,
        GridPoint.text(ConfigFactory.parseString("v = " + typed).getValue("v")), typed));
  }

  @Test
  void refusesBadGridsBeforeAnyWorkNamingTheKey() {
    String axes = "grid.axes = [{ key = model.block, values = [pre-ln] }]\n";
    assertTrue(refused(axes).getMessage().startsWith("grid.name = ''"));
    assertTrue(refused("grid.name = \"a b\"\n" + axes).getMessage().contains("allowed: letters"));
    assertTrue(refused("grid.name = g\n").getMessage().startsWith("grid.axes is empty"));
    assertTrue(refused("grid.name = g\ngrid.axes = [{ key = quant.batch_size, values = [1] }]")
        .getMessage().contains("not a key an axis can cross; allowed: the model.* and train.* keys"));
    assertTrue(refused("grid.name = g\ngrid.axes = [{ key = train.run_id, values = [x] }]").getMessage()
        .contains("except train.grid, train.point, train.resume, train.run_id, train.warehouse"));
    assertTrue(refused("grid.name = g\ngrid.axes = [{ key = train.nonsense, values = [1] }]").getMessage()
        .contains("not a key an axis can cross"));
    assertTrue(refused("grid.name = g\ngrid.axes = [{ key = train.lr, values = [] }]").getMessage()
        .contains("empty list of values"));
    assertTrue(refused("grid.name = g\ngrid.axes = [{ key = train.lr, values = [1e-3, 0.001] }]").getMessage()
        .contains("lists 1e-3 twice"));
    assertTrue(refused("grid.name = g\ngrid.axes = [{ key = train.lr, values = [1e-3] },"
        + " { key = train.lr, values = [2e-3] }]").getMessage().contains("crossed twice"));
    assertTrue(refused("grid.name = g\ngrid.axes = [{ key = train.snapshot_steps, values = [[1]] }]").getMessage()
        .contains("allowed: numbers, strings, booleans"));
    assertTrue(refused("grid.name = g\ntrain.run_id = mine\n" + axes).getMessage().contains("names its runs"));
    ConfigError point = refused("grid.name = g\ngrid.axes = [{ key = train.optimizer, values = [adamw, lion] }]");
    assertTrue(point.getMessage().startsWith("grid point train.optimizer=lion: train.optimizer"), point.getMessage());
    ConfigError clash = refused("grid.name = g\ngrid.axes = [{ key = model.block, values = [pre-ln] },"
        + " { key = train.tokens, values = [\"a/b\", \"a_b\"] }]");
    assertTrue(clash.getMessage().contains("share the run id g-pre-ln-a_b"), clash.getMessage());
  }

  @Test
  void dryRunIsAnOptionSpelledAsTheIssueSpellsIt() throws Exception {
    GridSettings s = read("grid.name = g\ngrid.axes = [{ key = model.block, values = [pre-ln] }]",
        Map.of("grid.dry-run", "true"));
    assertTrue(s.dryRun());
  }

  /** The shipped grids: each loads, validates every point and lists them in a dry run. */
  @Test
  void everyShippedGridIsValidAndDryRuns() throws Exception {
    Map<String, Integer> points = new java.util.TreeMap<>();
    try (Stream<Path> files = Files.walk(Path.of("../conf/grids"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".conf")).sorted().toList()) {
        GridSettings s = GridSettings.read(ConfigLoader.load(List.of(file.toString()), Map.of("grid.dry_run", "true",
            "train.warehouse", dir.resolve("wh").toString())));
        assertTrue(GridJob.run(s).dryRun());
        points.put(Path.of("../conf/grids").relativize(file).toString(), s.points().size());
      }
    }
    assertEquals(Map.of("laptop/blocks.conf", 5, "laptop/eps.conf", 5, "laptop/lr.conf", 6,
        "laptop/optimizers.conf", 4, "laptop/quant-table.conf", 4, "paper/blocks.conf", 5, "paper/eps.conf", 6,
        "paper/lr.conf", 4, "paper/optimizers.conf", 4, "paper/quant-table.conf", 4), points);
  }
}

package org.outlierlab.jobs.figures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.metrics.MetricsJob;
import org.outlierlab.jobs.sql.TestWarehouse;
import org.outlierlab.jobs.sql.WarehouseViews;

/**
 * The figures job on a small warehouse written by the test: every figure whose table is there renders as a PNG of
 * the expected size, its CSV holds exactly the rows of its query, and figures without data are skipped with the job
 * that writes it named.
 */
class FiguresJobTest {
  @TempDir static Path dir;
  static String warehouse;
  static final List<String> RUNS = List.of("pre-1", "op-1");

  @BeforeAll
  static void smallWarehouse() throws Exception {
    warehouse = dir.resolve("wh").toString();
    SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      List<Row> rows = new ArrayList<>();
      for (String run : RUNS) {
        TestWarehouse.addRun(warehouse, run, run.startsWith("op") ? "op" : "pre-ln", new Configuration());
        for (int layer = 0; layer < 2; layer++) {
          for (long step : new long[] {0, 50, 100}) {
            double growth = run.startsWith("op") ? 1 : 1 + step / 20.0 * (layer + 1);
            rows.add(RowFactory.create(run, step, layer, "resid_attn_in", "kurtosis", 1.1 * growth));
            rows.add(RowFactory.create(run, step, layer, "resid_attn_in", "signal_prop_rms", 0.1 + step / 1000.0));
            rows.add(RowFactory.create(run, step, layer, "resid_attn_in", "act_rms", step == 0 ? 0.0 : 2.0));
          }
        }
      }
      spark.createDataFrame(rows, MetricsJob.SCHEMA).write().mode(SaveMode.Overwrite).partitionBy("run_id")
          .parquet(warehouse + "/layer_metrics");
    } finally {
      spark.stop();
    }
  }

  private static FiguresResult figures(String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("figures", "--master", "local[1]", "--spark.ui.enabled", "false",
        "--warehouse", warehouse));
    args.addAll(List.of(extra));
    List<Object> results = new ArrayList<>();
    assertEquals(0, Main.run(args.toArray(new String[0]), results::add));
    return (FiguresResult) results.get(0);
  }

  @Test
  void eachFigureRendersItsQueryAndTheMissingOnesSayWhichJobWritesThem() throws Exception {
    FiguresResult r = figures();
    Map<String, FiguresResult.Drawn> drawn = r.drawn().stream()
        .collect(Collectors.toMap(FiguresResult.Drawn::figure, d -> d));
    assertEquals(java.util.Set.of("kurtosis", "activation-rms", "signal-propagation", "kurtosis-vs-signal-propagation",
        "loss"), drawn.keySet(), r.summary().toString());
    String skipped = String.join("\n", r.skipped());
    assertTrue(skipped.contains("quant-delta-vs-kurtosis: the warehouse has no quant_eval yet (bin/oflab quant-eval"),
        skipped);
    assertTrue(skipped.contains("max-median-ratio: no rows"), skipped);
    assertEquals(4, drawn.get("activation-rms").leftOut(), "act_rms 0 at step 0 (2 runs x 2 layers) cannot go on a log axis");

    SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      WarehouseViews.scan(warehouse, "test", new Configuration()).register(spark);
      for (Figure f : List.of(Figure.KURTOSIS, Figure.KURTOSIS_VS_SIGNAL_PROPAGATION, Figure.LOSS)) {
        FiguresResult.Drawn d = drawn.get(f.fileName());
        BufferedImage png = ImageIO.read(local(d.png()));
        int[] size = FigureRenderer.size(2);
        assertEquals(size[0], png.getWidth(), f.fileName());
        assertEquals(size[1], png.getHeight(), f.fileName());
        List<String> expected = new ArrayList<>(List.of("panel,series,x,y"));
        for (Row row : spark.sql(f.query(List.of())).collectAsList()) {
          expected.add(row.getString(0) + "," + row.getString(1) + "," + ((Number) row.get(2)).doubleValue() + ","
              + ((Number) row.get(3)).doubleValue());
        }
        assertEquals(expected, Files.readAllLines(local(d.csv()).toPath()), f.fileName() + ": the CSV is"
            + " the query's rows");
      }
    } finally {
      spark.stop();
    }
  }

  private static File local(String path) {
    return new File(new org.apache.hadoop.fs.Path(path).toUri().getPath());
  }

  @Test
  void runsAndFiguresCanBeChosenAndAnUnknownFigureFailsNamingTheKey() throws Exception {
    FiguresResult r = figures("--runs", "[op-1]", "--list", "[kurtosis]", "--out", dir.resolve("only").toString());
    assertEquals(1, r.drawn().size());
    BufferedImage png = ImageIO.read(dir.resolve("only/kurtosis.png").toFile());
    assertEquals(FigureRenderer.size(1)[0], png.getWidth(), "one panel: one run");
    assertTrue(Files.readAllLines(dir.resolve("only/kurtosis.csv")).stream().skip(1).allMatch(l -> l.startsWith("op-1,")));
    try (var files = Files.list(dir.resolve("only"))) {
      assertEquals(List.of("kurtosis.csv", "kurtosis.png"), files.map(p -> p.getFileName().toString()).sorted().toList(),
          "the figure and its data, nothing else");
    }
    ConfigError e = assertThrows(ConfigError.class, () -> figures("--list", "[kurtosis, kurtosys]"));
    assertTrue(e.getMessage().contains("figures.list") && e.getMessage().contains("signal-propagation"), e.getMessage());
  }
}

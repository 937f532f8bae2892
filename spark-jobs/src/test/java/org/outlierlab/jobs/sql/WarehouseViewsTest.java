package org.outlierlab.jobs.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.config.ConfigError;

class WarehouseViewsTest {
  static SparkSession spark;
  @TempDir Path dir;

  @BeforeAll
  static void startSpark() {
    spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2").getOrCreate();
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  /** A fresh session per test: the views are temporary, and the statements set a session option. */
  static SparkSession session() {
    return spark.newSession();
  }

  @Test
  void theViewsJoinAndPickUpRunsAndFilesAddedAfterTheyWereDefined() throws Exception {
    // A warehouse path with a space and a backquote: both are quoted, not refused.
    String wh = dir.resolve("my `wh` 1").toString();
    TestWarehouse.write(spark, wh);
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    WarehouseViews views = WarehouseViews.scan(wh, "sql.warehouse", conf).requireTables("sql.warehouse");
    assertEquals(List.of("layer_metrics", "train_log", "runs"), views.views(), "no run has snapshots");
    SparkSession s = session();
    views.register(s);

    assertEquals(TestWarehouse.PEAKS, rows(s, TestWarehouse.PEAK_QUERY));
    assertEquals("run_id:string,step:bigint,layer:int,site:string,metric:string,value:double",
        String.join(",", Arrays.stream(s.table("layer_metrics").schema().fields())
            .map(f -> f.name() + ":" + f.dataType().simpleString()).toList()), "the documented order and types");
    assertEquals(List.of("007", "op-1", "pre-2"), rows(s, "SELECT DISTINCT run_id FROM layer_metrics ORDER BY 1"),
        "run_id 007 stays a string (partition types are not inferred)");
    assertEquals(List.of(Integer.toString(3 * TestWarehouse.LOGGED_STEPS)), rows(s, "SELECT count(*) FROM train_log"));

    // A new run, and another train_log file of an existing run, after the views were defined.
    TestWarehouse.addRun(wh, "op-3", "op", conf);
    org.outlierlab.model.run.TrainLog log = new org.outlierlab.model.run.TrainLog(
        new org.apache.hadoop.fs.Path(wh + "/runs/007/train_log"), conf);
    log.add(new org.outlierlab.model.run.TrainLog.Row("007", 500, 2.0, 1e-3, 0.5, 1000, 9, Double.NaN));
    log.flush();
    assertEquals(List.of(Integer.toString(4 * TestWarehouse.LOGGED_STEPS + 1)),
        rows(s, "SELECT count(*) FROM train_log"));
    assertEquals(List.of("007 pre-ln", "op-1 op", "op-3 op", "pre-2 pre-ln"),
        rows(s, "SELECT run_id, block FROM runs ORDER BY run_id"));
  }

  @Test
  void runsReadsRunInfoFilesOfEveryVersionTheirColumnsMerged() throws Exception {
    String wh = dir.resolve("wh").toString();
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    // a run written before the grid and point columns existed, listed first (the file a schema is inferred from)
    spark.sql("SELECT 'before' AS run_id, 'pre-ln' AS block, 'finished' AS status, 10L AS steps").write()
        .parquet(wh + "/runs/before/run_info");
    new org.outlierlab.model.run.RunInfo.Builder("with", "op", "model { block = op }", "2025-01-01T00:00:00Z", 1, "g",
        "model.block=op").running().write(wh + "/runs/with", conf);
    SparkSession s = session();
    WarehouseViews.scan(wh, "sql.warehouse", conf).register(s);
    assertEquals(List.of("before pre-ln finished null null", "with op running g model.block=op"),
        rows(s, "SELECT run_id, block, status, grid, point FROM runs ORDER BY run_id"));
  }

  @Test
  void viewsSqlHoldsExactlyTheStatementsAndIsReplacedWhole() throws Exception {
    String wh = dir.resolve("wh").toString();
    TestWarehouse.write(spark, wh);
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    WarehouseViews views = WarehouseViews.scan(wh, "sql.warehouse", conf);
    Path file = Path.of(views.write(conf).toUri());
    assertEquals(dir.resolve("wh").resolve("views.sql"), file);
    List<String> statements = Arrays.stream(Files.readString(file).split("\n"))
        .filter(line -> !line.startsWith("--")).map(line -> line.replaceAll(";$", "")).toList();
    assertEquals(views.statements(), statements);
    assertTrue(statements.get(0).startsWith("SET spark.sql.sources.partitionColumnTypeInference.enabled=false"));
    assertEquals("SET spark.sql.parquet.mergeSchema=true", statements.get(1));
    assertTrue(statements.get(2).startsWith("CREATE OR REPLACE TEMPORARY VIEW layer_metrics AS SELECT run_id, step, "
        + "layer, site, metric, value FROM parquet.`file:" + dir.toAbsolutePath().resolve("wh/layer_metrics")),
        statements.get(2));

    // The file, run statement by statement as a SQL client runs it, defines working views.
    SparkSession s = session();
    for (String statement : Files.readString(file).replaceAll("(?m)^--.*\n", "").split(";\n")) {
      s.sql(statement);
    }
    assertEquals(TestWarehouse.PEAKS, rows(s, TestWarehouse.PEAK_QUERY));

    TestWarehouse.addRun(wh, "op-3", "op", conf);
    views.write(conf);
    try (Stream<Path> files = Files.list(dir.resolve("wh"))) {
      assertEquals(List.of(".views.sql.crc", "layer_metrics", "runs", "views.sql"),
          files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary file left behind");
    }
  }

  @Test
  void aWarehouseWithoutTablesNamesTheJobsThatWriteThem() throws Exception {
    Files.createDirectories(dir.resolve("wh/runs/started-only"));
    WarehouseViews views = WarehouseViews.scan(dir.resolve("wh").toString(), "sql.warehouse", new Configuration());
    assertEquals(List.of(), views.views());
    var e = assertThrows(FileNotFoundException.class, () -> views.requireTables("sql.warehouse"));
    assertTrue(e.getMessage().startsWith("sql.warehouse = ") && e.getMessage().contains("bin/oflab train")
        && e.getMessage().contains("bin/oflab metrics"), e.getMessage());
  }

  @Test
  void aPathNoClientCouldQuoteIsRefusedWithItsKey() {
    for (String name : List.of("a;b", "it's", "x--y", "runs*")) {
      var e = assertThrows(ConfigError.class,
          () -> WarehouseViews.scan(dir.resolve(name).toString(), "metrics.warehouse", new Configuration()));
      assertTrue(e.getMessage().startsWith("metrics.warehouse = '") && e.getMessage().contains("allowed: a path"),
          e.getMessage());
    }
    assertEquals("`a``b`", WarehouseViews.backticked("a`b"));
  }

  /** The rows of a query, each as its values joined by spaces. */
  static List<String> rows(SparkSession s, String query) {
    return s.sql(query).collectAsList().stream()
        .map(r -> String.join(" ", java.util.stream.IntStream.range(0, r.size())
            .mapToObj(i -> String.valueOf(r.get(i))).toList()))
        .toList();
  }
}

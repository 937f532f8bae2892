package org.outlierlab.jobs;

import com.typesafe.config.Config;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a Spark SQL query over a warehouse, with its tables registered as views: {@code layer_metrics},
 * {@code train_log}, {@code snapshots} and {@code runs} (the last three across every run of the warehouse).
 */
final class SqlJob {
  private static final Logger LOG = LoggerFactory.getLogger(SqlJob.class);
  static final String SECTION = "sql";

  private SqlJob() {}

  static void run(Config config) throws IOException {
    ConfigReader c = new ConfigReader(config);
    String query = c.string("sql.query");
    if (query.isBlank()) {
      throw new ConfigError("sql.query is empty; allowed: a Spark SQL query, e.g. bin/oflab sql \"SELECT * FROM train_log\"");
    }
    int maxRows = c.intBetween("sql.max_rows", 1, 1 << 30);
    String warehouse = c.string("sql.warehouse");
    SparkSession spark = SparkSessions.create(config, "sql");
    try {
      List<String> tables = register(spark, warehouse);
      LOG.info("sql: views {} from {} (parquet.`path` reads any other Parquet directory)", tables, warehouse);
      spark.sql(query).show(maxRows, false);
    } finally {
      spark.stop();
    }
  }

  /** Registers every table the warehouse holds; returns their names. */
  static List<String> register(SparkSession spark, String warehouse) throws IOException {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<String> registered = new ArrayList<>();
    Path metrics = new Path(warehouse, "layer_metrics");
    if (metrics.getFileSystem(conf).exists(metrics)) {
      spark.read().parquet(metrics.toString()).createOrReplaceTempView("layer_metrics");
      registered.add("layer_metrics");
    }
    for (String[] table : new String[][] {{"train_log", "train_log"}, {"snapshots", "snapshots"}, {"runs", "run_info"}}) {
      List<String> dirs = runTables(warehouse, table[1], conf);
      if (!dirs.isEmpty()) {
        spark.read().parquet(dirs.toArray(new String[0])).createOrReplaceTempView(table[0]);
        registered.add(table[0]);
      }
    }
    return registered;
  }

  /** {@code <warehouse>/runs/<run>/<table>} for every run that has written Parquet files to it. */
  static List<String> runTables(String warehouse, String table, Configuration conf) throws IOException {
    Path runs = new Path(warehouse, "runs");
    FileSystem fs = runs.getFileSystem(conf);
    List<String> dirs = new ArrayList<>();
    if (fs.exists(runs)) {
      for (var run : fs.listStatus(runs)) {
        Path dir = new Path(run.getPath(), table);
        if (fs.exists(dir) && fs.listStatus(dir, p -> p.getName().endsWith(".parquet")).length > 0) {
          dirs.add(dir.toString());
        }
      }
    }
    return dirs;
  }
}

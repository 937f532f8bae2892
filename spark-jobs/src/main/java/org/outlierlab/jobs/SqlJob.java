package org.outlierlab.jobs;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.jobs.config.ConfigReader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * bin/oflab sql: a Spark SQL query over a warehouse, printed; or, without a query, an interactive Spark SQL shell.
 * Either way the warehouse's tables are views ({@link WarehouseViews}): {@code layer_metrics}, and {@code
 * train_log}, {@code snapshots} and {@code runs} across every run; {@code <warehouse>/views.sql} is rewritten.
 */
final class SqlJob {
  private static final Logger LOG = LoggerFactory.getLogger(SqlJob.class);
  static final String SECTION = "sql";

  private SqlJob() {}

  static void run(Config config) throws IOException {
    ConfigReader c = new ConfigReader(config);
    String query = c.string("sql.query");
    int maxRows = c.intBetween("sql.max_rows", 1, 1 << 30);
    Configuration hadoop = SparkSessions.hadoopConf(config);
    WarehouseViews views = warehouseViews(c, hadoop);
    var written = views.tryWrite(hadoop);
    SqlScratch scratch = SqlScratch.create();
    if (query.isBlank()) {
      String init;
      if (written.isPresent()) {
        init = written.get().toString();
      } else {
        init = Files.writeString(scratch.dir().resolve(WarehouseViews.FILE), views.script(), StandardCharsets.UTF_8)
            .toString();
      }
      SqlShell.open(config, scratch, init);
      return;
    }
    SparkSession spark = SparkSessions.create(config, "sql", scratch.sparkDefaults());
    try {
      views.register(spark);
      LOG.info("sql: views {} (parquet.`path` reads any other Parquet directory)", views.views());
      spark.sql(query).show(maxRows, false);
    } finally {
      spark.stop();
    }
  }

  /** The views of {@code sql.warehouse}, which must hold at least one table. */
  static WarehouseViews warehouseViews(ConfigReader c, Configuration hadoop) throws IOException {
    return WarehouseViews.scan(c.string("sql.warehouse"), "sql.warehouse", hadoop).requireTables("sql.warehouse");
  }
}

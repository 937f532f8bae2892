package org.outlierlab.jobs.sql;

import com.typesafe.config.Config;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.spark.SparkSessions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * bin/oflab sql: a Spark SQL query over a warehouse, printed; or, without a query, an interactive Spark SQL shell.
 * Either way the warehouse's tables are views ({@link WarehouseViews}): {@code layer_metrics}, and {@code
 * train_log}, {@code snapshots} and {@code runs} across every run; {@code <warehouse>/views.sql} is rewritten.
 */
public final class SqlJob {
  private static final Logger LOG = LoggerFactory.getLogger(SqlJob.class);
  public static final String SECTION = "sql";
  static final String WAREHOUSE = "sql.warehouse";

  private SqlJob() {}

  public static void run(Config config) throws IOException {
    ConfigReader c = new ConfigReader(config);
    String query = c.string("sql.query");
    int maxRows = c.intBetween("sql.max_rows", 1, 1 << 30);
    Configuration hadoop = SparkSessions.hadoopConf(config);
    WarehouseViews views = WarehouseViews.scan(c.string(WAREHOUSE), WAREHOUSE, hadoop);
    if (query.isBlank()) {
      shell(config, views.requireTables(WAREHOUSE), hadoop);
    } else {
      query(config, views, hadoop, query, maxRows);
    }
  }

  /** Prints the query's result; a query over parquet.`path` alone needs no table in the warehouse. */
  private static void query(Config config, WarehouseViews views, Configuration hadoop, String query, int maxRows)
      throws IOException {
    views.tryWrite(hadoop);
    SparkSession spark = SparkSessions.create(config, "sql", SqlScratch.create().sparkDefaults());
    try {
      views.register(spark);
      LOG.info("sql: views {} (parquet.`path` reads any other Parquet directory)", views.views());
      spark.sql(query).show(maxRows, false);
    } catch (Exception e) {
      if (e instanceof AnalysisException analysis) {
        Optional<FileNotFoundException> missing = views.missingTable(analysis, WAREHOUSE);
        if (missing.isPresent()) {
          throw missing.get();
        }
      }
      throw e;
    } finally {
      spark.stop();
    }
  }

  /** The shell, with views.sql as its init file: the warehouse's, or a copy when the warehouse is read-only. */
  private static void shell(Config config, WarehouseViews views, Configuration hadoop) throws IOException {
    SqlScratch scratch = SqlScratch.create();
    Optional<Path> written = views.tryWrite(hadoop);
    String init = written.isPresent() ? written.get().toString()
        : Files.writeString(scratch.dir().resolve(WarehouseViews.FILE), views.script(), StandardCharsets.UTF_8)
            .toString();
    SqlShell.open(config, scratch, init);
  }
}

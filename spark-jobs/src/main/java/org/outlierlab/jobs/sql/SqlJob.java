package org.outlierlab.jobs.sql;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.jobs.spark.SparkSessions;
import org.outlierlab.jobs.spark.SparkSettings;
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

  public static SqlResult run(SqlJobSettings s) throws IOException {
    Configuration hadoop = SparkSessions.hadoopConf(s.spark());
    WarehouseViews views = WarehouseViews.scan(s.warehouse(), WAREHOUSE, hadoop);
    if (s.query().isBlank()) {
      return shell(s.spark(), views.requireTables(WAREHOUSE), hadoop);
    }
    return query(s, views, hadoop);
  }

  /** Prints the query's result; a query over parquet.`path` alone needs no table in the warehouse. */
  private static SqlResult query(SqlJobSettings s, WarehouseViews views, Configuration hadoop) throws IOException {
    Optional<Path> written = views.tryWrite(hadoop);
    try (SparkSession spark = SparkSessions.open(s.spark(), "sql", SqlScratch.create().sparkDefaults())) {
      views.register(spark);
      LOG.info("sql: views {} (parquet.`path` reads any other Parquet directory)", views.views());
      spark.sql(s.query()).show(s.maxRows(), false);
    } catch (Exception e) {
      if (e instanceof AnalysisException analysis) {
        Optional<FileNotFoundException> missing = views.missingTable(analysis, WAREHOUSE);
        if (missing.isPresent()) {
          throw missing.get();
        }
      }
      throw e;
    }
    return new SqlResult(views.views(), written.map(Path::toString));
  }

  /**
   * The shell, with views.sql as its init file: the warehouse's, or a copy when the warehouse is read-only. Spark's CLI
   * ends the JVM when the user quits.
   */
  private static SqlResult shell(SparkSettings spark, WarehouseViews views, Configuration hadoop) throws IOException {
    SqlScratch scratch = SqlScratch.create();
    Optional<Path> written = views.tryWrite(hadoop);
    String init = written.isPresent() ? written.get().toString()
        : Files.writeString(scratch.dir().resolve(WarehouseViews.FILE), views.script(), StandardCharsets.UTF_8)
            .toString();
    SqlShell.open(spark, scratch, init);
    return new SqlResult(views.views(), written.map(Path::toString));
  }
}

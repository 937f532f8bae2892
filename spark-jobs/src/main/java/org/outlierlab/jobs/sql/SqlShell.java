package org.outlierlab.jobs.sql;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.hive.thriftserver.SparkSQLCLIDriver;
import org.outlierlab.jobs.spark.SparkSessions;
import org.outlierlab.jobs.spark.SparkSettings;

/**
 * The interactive shell of bin/oflab sql: Spark's own SQL CLI (what a distribution's {@code spark-sql} runs) on
 * this job's Spark, with views.sql as its init file ({@code -i}), so it has exactly the views bin/oflab sql and
 * sql-server define. Statements end with ';'; {@code quit;} (or end of input) leaves.
 */
final class SqlShell {
  private SqlShell() {}

  /** Runs the shell until the user quits; the CLI then exits the JVM with its status. */
  static void open(SparkSettings spark, SqlScratch scratch, String viewsFile) {
    // The CLI makes its own SparkSession from the spark.* system properties, as under spark-submit.
    SparkSessions.settings(spark, "sql shell", scratch.sparkDefaults()).forEach(System::setProperty);
    List<String> args = new ArrayList<>(List.of("-i", viewsFile, "--hiveconf", "hive.cli.print.header=true"));
    args.addAll(List.of(scratch.hiveConfArgs()));
    SparkSQLCLIDriver.main(args.toArray(new String[0]));
  }
}

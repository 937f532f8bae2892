package org.outlierlab.jobs.sql;

import com.typesafe.config.Config;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.spark.SparkSettings;

/** What bin/oflab sql runs with: the warehouse, the query ("": the shell), the most rows printed, the job's Spark. */
public record SqlJobSettings(String warehouse, String query, int maxRows, SparkSettings spark) {
  public static SqlJobSettings read(Config config) {
    ConfigReader c = new ConfigReader(config);
    String query = c.string("sql.query");
    int maxRows = c.intBetween("sql.max_rows", 1, 1 << 30);
    return new SqlJobSettings(c.string(SqlJob.WAREHOUSE), query, maxRows, SparkSettings.read(config));
  }
}

package org.outlierlab.jobs.sql;

import com.typesafe.config.Config;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.spark.SparkSettings;

/** What bin/oflab sql-server runs with: the warehouse, the address it listens on, the job's Spark. */
public record SqlServerSettings(String warehouse, String host, int port, SparkSettings spark) {
  public static SqlServerSettings read(Config config) {
    ConfigReader c = new ConfigReader(config);
    int port = c.intBetween("sql.port", 1, 65535);
    String host = c.string("sql.host");
    return new SqlServerSettings(c.string(SqlJob.WAREHOUSE), host, port, SparkSettings.read(config));
  }
}

package org.outlierlab.jobs.sql;

import com.typesafe.config.Config;
import java.nio.file.Path;
import org.outlierlab.jobs.config.ConfigReader;
import org.outlierlab.jobs.spark.SparkSettings;

/**
 * What bin/oflab sql-server runs with: the warehouse, the address it listens on, who may connect (sql.auth, the
 * users' file, whether a server beyond loopback may go without authentication), the job's Spark.
 */
public record SqlServerSettings(String warehouse, String host, int port, Auth auth, Path passwordFile,
    boolean allowAnonymous, SparkSettings spark) {

  /** sql.auth: none (anyone who reaches the server), password (the users of sql.password_file). */
  enum Auth {
    NONE,
    PASSWORD
  }

  public static SqlServerSettings read(Config config) {
    ConfigReader c = new ConfigReader(config);
    int port = c.intBetween("sql.port", 1, 65535);
    String host = c.string("sql.host");
    return new SqlServerSettings(c.string(SqlJob.WAREHOUSE), host, port, c.choice("sql.auth", Auth.class),
        passwordFile(c), c.bool("sql.allow_anonymous"), SparkSettings.read(config));
  }

  /** sql.password_file, "" being ~/.oflab/sql-users. */
  static Path passwordFile(ConfigReader c) {
    String file = c.string("sql.password_file");
    return file.isEmpty() ? Path.of(System.getProperty("user.home"), ".oflab", "sql-users") : Path.of(file);
  }
}

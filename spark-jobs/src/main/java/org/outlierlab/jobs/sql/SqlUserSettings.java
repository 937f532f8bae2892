package org.outlierlab.jobs.sql;

import com.typesafe.config.Config;
import java.nio.file.Path;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigReader;

/** What bin/oflab sql-user runs with: the users' file and the user whose password it sets. */
public record SqlUserSettings(Path passwordFile, String user) {
  public static SqlUserSettings read(Config config) {
    ConfigReader c = new ConfigReader(config);
    String user = c.string("sql.user");
    if (user.isEmpty()) {
      throw new ConfigError("sql.user is empty; name the user: bin/oflab sql-user NAME");
    }
    return new SqlUserSettings(SqlServerSettings.passwordFile(c), user);
  }
}

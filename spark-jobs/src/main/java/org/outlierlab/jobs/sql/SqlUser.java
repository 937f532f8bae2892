package org.outlierlab.jobs.sql;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.outlierlab.jobs.config.ConfigError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * bin/oflab sql-user NAME: adds a user of the sql-server (sql.auth = password) or changes their password, asked for
 * twice on the terminal without echo, or read from the first line of standard input when that is not a terminal
 * ({@code printf '%s\n' "$PASSWORD" | bin/oflab sql-user NAME}).
 */
public final class SqlUser {
  private static final Logger LOG = LoggerFactory.getLogger(SqlUser.class);

  private SqlUser() {}

  public static SqlUserSettings run(SqlUserSettings s) throws IOException {
    char[] password = password(s.user());
    try {
      PasswordFile.set(s.passwordFile(), s.user(), password);
    } finally {
      Arrays.fill(password, '\0');
    }
    LOG.info("sql-user: set the password of {} in {} (users: {})", s.user(), s.passwordFile(),
        String.join(", ", PasswordFile.read(s.passwordFile(), "sql.password_file").users()));
    return s;
  }

  private static char[] password(String user) throws IOException {
    Console console = System.console();
    if (console != null) {
      char[] first = console.readPassword("password for %s: ", user);
      char[] again = console.readPassword("the same again: ");
      if (first == null || !Arrays.equals(first, again)) {
        throw new ConfigError("the two passwords for " + user + " differ; run bin/oflab sql-user " + user + " again");
      }
      return first;
    }
    String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    if (line == null) {
      throw new ConfigError("no password for " + user + " on standard input; run bin/oflab sql-user " + user
          + " on a terminal, or give the password as the first line of its input");
    }
    return line.toCharArray();
  }
}

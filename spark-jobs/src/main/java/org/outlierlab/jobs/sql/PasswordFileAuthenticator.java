package org.outlierlab.jobs.sql;

import java.io.IOException;
import java.nio.file.Path;
import javax.security.sasl.AuthenticationException;
import org.apache.hive.service.auth.PasswdAuthenticationProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hive's custom password provider for sql.auth = password: a login is accepted when the {@link PasswordFile} names
 * the user with that password. Hive makes it by class name with a fresh HiveConf, not the server's configuration,
 * so the file's path comes from a system property the server sets before it starts.
 */
public final class PasswordFileAuthenticator implements PasswdAuthenticationProvider {
  private static final Logger LOG = LoggerFactory.getLogger(PasswordFileAuthenticator.class);
  static final String FILE_PROPERTY = "oflab.sql.password_file";

  @Override
  public void Authenticate(String user, String password) throws AuthenticationException { // Hive's name
    String file = System.getProperty(FILE_PROPERTY);
    boolean accepted;
    try {
      accepted = file != null && user != null && password != null
          && PasswordFile.read(Path.of(file), "sql.password_file").accepts(user, password.toCharArray());
    } catch (IOException | RuntimeException e) {
      LOG.error("sql-server: cannot read the users of {}: {}", file, e.getMessage());
      throw new AuthenticationException("the server cannot check passwords now; see its log");
    }
    if (!accepted) {
      LOG.warn("sql-server: login refused for user '{}'", user);
      throw new AuthenticationException("user or password not accepted");
    }
  }
}

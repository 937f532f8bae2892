package org.outlierlab.jobs.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigLoader;

/**
 * The thrift server beyond loopback: listening on every interface, it serves only with authentication or an explicit
 * sql.allow_anonymous; with sql.auth = password, exactly the users bin/oflab sql-user added, with their passwords.
 */
class SqlServerAuthTest {
  @TempDir Path dir;

  private Config config(String wh, int port, Map<String, String> more) {
    Map<String, String> keys = new HashMap<>(Map.of("sql.warehouse", wh, "sql.port", Integer.toString(port),
        "sql.host", "0.0.0.0", "spark.master", "local[2]", "spark.ui.enabled", "false",
        "spark.sql.shuffle.partitions", "2"));
    keys.putAll(more);
    return ConfigLoader.load(List.of(), keys);
  }

  /** bin/oflab sql-user NAME with the password on standard input, as a script gives it. */
  private void addUser(Path users, String name, String password) throws Exception {
    InputStream stdin = System.in;
    System.setIn(new ByteArrayInputStream((password + "\n").getBytes(StandardCharsets.UTF_8)));
    try {
      Main.run(new String[] {"sql-user", name, "--password_file", users.toString()});
    } finally {
      System.setIn(stdin);
    }
  }

  @Test
  void beyondLoopbackTheServerIsRefusedWithoutAuthenticationOrWithoutItsUsersFile() throws Exception {
    String wh = dir.resolve("wh").toString();
    TestWarehouse.write(wh);
    int port = SqlServerTest.freePort();
    var open = assertThrows(ConfigError.class, () -> SqlServer.start(SqlServerSettings.read(config(wh, port,
        Map.of()))));
    assertTrue(open.getMessage().startsWith("sql.host = '0.0.0.0' listens beyond this machine")
        && open.getMessage().contains("sql.auth = password") && open.getMessage().contains("sql.allow_anonymous"),
        open.getMessage());
    Path missing = dir.resolve("no-users");
    var noFile = assertThrows(ConfigError.class, () -> SqlServer.start(SqlServerSettings.read(config(wh, port,
        Map.of("sql.auth", "password", "sql.password_file", missing.toString())))));
    assertEquals("sql.password_file = '" + missing + "' does not exist; add a user with bin/oflab sql-user NAME (it"
        + " asks for the password)", noFile.getMessage());
    Path bad = Files.writeString(dir.resolve("bad-users"), "# users\nalice:secret\n");
    var malformed = assertThrows(ConfigError.class, () -> SqlServer.start(SqlServerSettings.read(config(wh, port,
        Map.of("sql.auth", "password", "sql.password_file", bad.toString())))));
    assertTrue(malformed.getMessage().contains("line 2 is not a user's line"), malformed.getMessage());
    var auth = assertThrows(ConfigError.class, () -> SqlServerSettings.read(config(wh, port,
        Map.of("sql.auth", "ldap"))));
    assertEquals("sql.auth = 'ldap' is not allowed; allowed: none, password", auth.getMessage());
    assertTrue(Files.readString(bad).contains("alice:secret"), "a malformed file is left as it was");
  }

  @Test
  void withPasswordsOnlyItsUsersWithTheirPasswordsConnect() throws Exception {
    String wh = dir.resolve("wh").toString();
    TestWarehouse.write(wh);
    Path users = dir.resolve("conf/sql-users");
    addUser(users, "alice", "correct horse");
    addUser(users, "bob", "old password");
    addUser(users, "bob", "battery staple"); // a second time: bob's password changes, alice's line stays
    String text = Files.readString(users);
    assertEquals(1, text.lines().filter(l -> l.startsWith("bob:")).count(), text);
    assertTrue(text.lines().anyMatch(l -> l.startsWith("alice:" + PasswordFile.SCHEME + ":")), text);
    assertTrue(!text.contains("correct horse") && !text.contains("battery"), "no password is stored: " + text);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(users)));
    int port = SqlServerTest.freePort();
    try (SqlServer server = SqlServer.start(SqlServerSettings.read(config(wh, port,
        Map.of("sql.auth", "password", "sql.password_file", users.toString()))))) {
      String url = "jdbc:hive2://localhost:" + port + "/default";
      try (Connection alice = DriverManager.getConnection(url, "alice", "correct horse");
           Connection bob = DriverManager.getConnection(url, "bob", "battery staple")) {
        assertEquals(List.of("9"), SqlServerTest.rows(alice, "SELECT count(*) FROM train_log"));
        assertEquals(List.of("9"), SqlServerTest.rows(bob, "SELECT count(*) FROM train_log"));
      }
      for (String[] refused : new String[][] {{"alice", "wrong"}, {"bob", "old password"}, {"mallory", "x"},
          {"alice", ""}, {"", ""}}) {
        assertThrows(SQLException.class, () -> DriverManager.getConnection(url, refused[0], refused[1]).close(),
            refused[0] + " / '" + refused[1] + "' refused");
      }
      assertThrows(SQLException.class, () -> DriverManager.getConnection(url).close(), "no credentials refused");
      addUser(users, "carol", "added while serving");
      try (Connection carol = DriverManager.getConnection(url, "carol", "added while serving")) {
        assertEquals(List.of("9"), SqlServerTest.rows(carol, "SELECT count(*) FROM train_log"));
      }
    }
  }

  @Test
  void anAnonymousServerBeyondLoopbackServesOnlyWhenAskedTo() throws Exception {
    String wh = dir.resolve("wh").toString();
    TestWarehouse.write(wh);
    int port = SqlServerTest.freePort();
    try (SqlServer server = SqlServer.start(SqlServerSettings.read(config(wh, port,
        Map.of("sql.allow_anonymous", "true"))))) {
      try (Connection anyone = DriverManager.getConnection("jdbc:hive2://localhost:" + port + "/default")) {
        assertEquals(List.of("9"), SqlServerTest.rows(anyone, "SELECT count(*) FROM train_log"));
      }
    }
  }
}

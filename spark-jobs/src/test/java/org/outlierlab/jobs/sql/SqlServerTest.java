package org.outlierlab.jobs.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import java.io.FileNotFoundException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.config.ConfigLoader;

/** The thrift server, queried for real through the Hive JDBC driver, as beeline and BI tools do. */
class SqlServerTest {
  @TempDir Path dir;

  @Test
  void everyJdbcConnectionSeesTheViewsAndRunsAddedWhileServing() throws Exception {
    String wh = dir.resolve("wh").toString();
    TestWarehouse.write(wh);
    int port = freePort();
    Config config = ConfigLoader.load(List.of(), Map.of("sql.warehouse", wh, "sql.port", Integer.toString(port),
        "spark.master", "local[2]", "spark.ui.enabled", "false", "spark.sql.shuffle.partitions", "2"));
    try (SqlServer server = SqlServer.start(SqlServerSettings.read(config))) {
      assertEquals("jdbc:hive2://localhost:" + port + "/default", server.url());
      try (Connection first = DriverManager.getConnection(server.url(), "tester", "");
           Connection second = DriverManager.getConnection(server.url(), "tester", "")) {
        assertEquals(TestWarehouse.PEAKS, rows(first, TestWarehouse.PEAK_QUERY),
            "peak kurtosis per layer per block type: layer_metrics joined with runs");
        assertEquals(List.of("9"), rows(second, "SELECT count(*) FROM train_log"));
        TestWarehouse.addRun(wh, "op-3", "op", new Configuration());
        assertEquals(List.of("12"), rows(second, "SELECT count(*) FROM train_log"), "a run added while serving");
        assertEquals(List.of("op-3 op"), rows(first, "SELECT run_id, block FROM runs WHERE run_id = 'op-3'"));
        TreeSet<String> tables = new TreeSet<>();
        try (ResultSet rs = second.getMetaData().getTables(null, null, "%", null)) {
          while (rs.next()) {
            tables.add(rs.getString("TABLE_NAME"));
          }
        }
        assertEquals(new TreeSet<>(List.of("layer_metrics", "runs", "train_log")), tables, "what a BI tool lists");
      }
    }
    assertTrue(Files.readString(dir.resolve("wh/views.sql")).contains("VIEW runs AS"), "views.sql written");
    Path cwd = Path.of(System.getProperty("user.dir"));
    assertFalse(Files.exists(cwd.resolve("metastore_db")) || Files.exists(cwd.resolve("derby.log"))
        || Files.exists(cwd.resolve("spark-warehouse")), "nothing left in the working directory " + cwd);
  }

  @Test
  void aBusyPortOrABadPortOrAnEmptyWarehouseFailsBeforeSparkStarts() throws Exception {
    TestWarehouse.addRun(dir.resolve("wh").toString(), "r", "op", new Configuration());
    String wh = dir.resolve("wh").toString();
    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getByName("localhost"))) {
      var e = assertThrows(ConfigError.class, () -> Main.run(new String[] {"sql-server", "--warehouse", wh,
          "--port", Integer.toString(busy.getLocalPort())}));
      assertTrue(e.getMessage().startsWith("sql.port = " + busy.getLocalPort() + " is in use"), e.getMessage());
    }
    var range = assertThrows(ConfigError.class,
        () -> Main.run(new String[] {"sql-server", "--warehouse", wh, "--port", "70000"}));
    assertEquals("sql.port = 70000 is out of range; allowed: 1 to 65535", range.getMessage());
    var host = assertThrows(ConfigError.class,
        () -> Main.run(new String[] {"sql-server", "--warehouse", wh, "--host", "no-such-host.invalid"}));
    assertTrue(host.getMessage().startsWith("sql.host = 'no-such-host.invalid'"), host.getMessage());
    var empty = assertThrows(FileNotFoundException.class,
        () -> Main.run(new String[] {"sql-server", "--warehouse", dir.resolve("empty").toString()}));
    assertTrue(empty.getMessage().contains("holds no tables yet: run bin/oflab train first"), empty.getMessage());
  }

  static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The rows of a query, each as its values joined by spaces. */
  static List<String> rows(Connection connection, String query) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(query)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= columns; i++) {
          values.add(rs.getString(i));
        }
        rows.add(String.join(" ", values));
      }
    }
    return rows;
  }
}

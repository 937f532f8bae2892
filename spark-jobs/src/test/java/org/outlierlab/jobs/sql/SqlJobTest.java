package org.outlierlab.jobs.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.outlierlab.jobs.Main;
import org.outlierlab.jobs.Stdout;

/** bin/oflab sql on warehouses that lack tables. */
class SqlJobTest {
  @TempDir Path dir;
  /** What the jobs this test ran returned, in order. */
  final List<Object> results = new java.util.ArrayList<>();

  String[] sql(String warehouse, String... query) {
    String[] args = {"sql", "--master", "local[1]", "--spark.ui.enabled", "false", "--warehouse", warehouse};
    return query.length == 0 ? args : java.util.stream.Stream.concat(java.util.Arrays.stream(args),
        java.util.Arrays.stream(query)).toArray(String[]::new);
  }

  static List<String> list(Path dir) throws java.io.IOException {
    try (var files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }

  @Test
  void aQueryNamingAMissingTableNamesTheJobThatWritesIt() throws Exception {
    String wh = dir.resolve("wh").toString();
    TestWarehouse.addRun(wh, "r", "op", new Configuration());
    var e = assertThrows(FileNotFoundException.class,
        () -> Main.run(sql(wh, "SELECT layer, max(value) FROM layer_metrics GROUP BY layer")));
    assertTrue(e.getMessage().matches("sql\\.warehouse = file:.*/wh has no layer_metrics yet: bin/oflab metrics writes"
        + " it \\(to layer_metrics\\)"), e.getMessage());
    var snapshots = assertThrows(FileNotFoundException.class, () -> Main.run(sql(wh, "SELECT * FROM snapshots")));
    assertTrue(snapshots.getMessage().contains("has no snapshots yet: bin/oflab train"), snapshots.getMessage());
    String table = Stdout.capture(() -> assertEquals(0,
        Main.run(sql(wh, "SELECT count(*) AS logged FROM train_log JOIN runs USING (run_id)"), results::add)));
    assertTrue(table.contains("|logged|\n+------+\n|" + TestWarehouse.LOGGED_STEPS + "     |\n"), table);
    assertTrue(Files.readString(dir.resolve("wh/views.sql")).contains("VIEW runs"), "views.sql written");
    SqlResult result = (SqlResult) results.get(0);
    assertEquals(List.of("train_log", "runs"), result.views());
    assertEquals(Optional.of("file:" + dir.resolve("wh/views.sql")), result.viewsFile());
  }

  @Test
  void withoutTablesAQueryOverAPathStillRunsButTheShellNamesWhatToRunFirst() throws Exception {
    String empty = Files.createDirectories(dir.resolve("empty")).toString();
    String other = dir.resolve("other").toString();
    TestWarehouse.addRun(other, "r", "op", new Configuration());
    assertEquals(0, Main.run(sql(empty, "SELECT count(*) FROM parquet.`" + other + "/runs/r/train_log`"), results::add));
    assertEquals(List.of(), list(dir.resolve("empty")), "no views.sql for a warehouse without tables");
    assertEquals(new SqlResult(List.of(), Optional.empty()), results.get(0));
    var shell = assertThrows(FileNotFoundException.class, () -> Main.run(sql(empty)));
    assertTrue(shell.getMessage().startsWith("sql.warehouse = file:" + empty + " holds no tables yet: run bin/oflab"
        + " train first"), shell.getMessage());
  }
}

package org.outlierlab.jobs.sql;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where Spark SQL and its Hive machinery keep their files while the sql jobs run: a temporary directory, removed
 * when the JVM exits, instead of the user's working directory (spark-warehouse/, derby.log, metastore_db/). The
 * session catalog is Spark's in-memory one: the views are temporary and come from the warehouse each time.
 */
final class SqlScratch {
  private final Path dir;

  private SqlScratch(Path dir) {
    this.dir = dir;
  }

  /** A new scratch directory; also points Derby's log (a JVM-wide property) into it unless already set. */
  static SqlScratch create() throws IOException {
    Path dir = Files.createTempDirectory("oflab-sql-");
    Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir), "oflab-sql-scratch-cleanup"));
    if (System.getProperty("derby.stream.error.file") == null) {
      System.setProperty("derby.stream.error.file", dir.resolve("derby.log").toString());
    }
    return new SqlScratch(dir);
  }

  Path dir() {
    return dir;
  }

  /** Spark settings for the sql jobs' sessions (the configuration's spark.* keys may override them). */
  Map<String, String> sparkDefaults() {
    return Map.of(
        "spark.sql.catalogImplementation", "in-memory",
        "spark.sql.warehouse.dir", dir.resolve("spark-warehouse").toUri().toString(),
        WarehouseViews.PARTITION_TYPES, "false");
  }

  /** Hive's scratch and resource directories, as --hiveconf arguments of the Spark SQL CLI. */
  String[] hiveConfArgs() {
    return new String[] {
        "--hiveconf", "hive.exec.scratchdir=" + dir.resolve("hive-scratch"),
        "--hiveconf", "hive.exec.local.scratchdir=" + dir.resolve("hive-local"),
        "--hiveconf", "hive.downloaded.resources.dir=" + dir.resolve("hive-resources"),
        "--hiveconf", "hive.querylog.location=" + dir.resolve("hive-querylog")};
  }

  private static void delete(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // best effort: it is a temporary directory
    }
  }
}

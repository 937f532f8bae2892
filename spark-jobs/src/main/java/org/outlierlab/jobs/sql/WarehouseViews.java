package org.outlierlab.jobs.sql;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.SparkSession;
import org.outlierlab.dataprep.fs.AtomicOutput;
import org.outlierlab.jobs.config.ConfigError;
import org.outlierlab.jobs.quant.QuantTables;
import org.outlierlab.model.run.RunLayout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A warehouse's tables as Spark SQL views, defined by SQL statements: the one definition that {@code bin/oflab
 * sql} and {@code sql-server} execute and that {@code <warehouse>/views.sql} holds for a stock {@code spark-sql
 * -i} or {@code beeline -i}. A view names its Parquet files by a path glob that Spark expands each time the view
 * is queried, so runs (and files) added later appear without defining the view again; only a table that did not
 * exist at all when the statements were made needs them made again.
 */
public final class WarehouseViews {
  private static final Logger LOG = LoggerFactory.getLogger(WarehouseViews.class);
  /** The file of statements in the warehouse. */
  public static final String FILE = "views.sql";
  /**
   * Spark infers partition values' types by default, which would make layer_metrics' run_id "007" the number
   * 7; the statements turn that off for the session (it is read when a view is queried, not when defined).
   */
  static final String PARTITION_TYPES = "spark.sql.sources.partitionColumnTypeInference.enabled";
  private static final String MERGE_SCHEMA = "spark.sql.parquet.mergeSchema";
  /** Characters a warehouse path cannot contain: SQL and client quoting, statement splitting, path globs. */
  private static final List<String> UNQUOTABLE = List.of(";", "'", "\"", "\\", "--", "*", "?", "[", "]", "{", "}");

  /** A view, and where its Parquet files lie: a warehouse-level table, or one table of every run. */
  enum Table {
    /** Partitioned by run_id, which Spark appends; the columns are listed in the documented order. */
    LAYER_METRICS("layer_metrics", "layer_metrics", false, "run_id, step, layer, site, metric, value",
        "bin/oflab metrics"),
    TRAIN_LOG("train_log", RunLayout.TRAIN_LOG, true, "*", "bin/oflab train"),
    SNAPSHOTS("snapshots", RunLayout.SNAPSHOTS, true, "*", "bin/oflab train (with snapshot_interval or snapshot_steps)"),
    RUNS("runs", RunLayout.RUN_INFO, true, "*", "bin/oflab train"),
    ALARMS("alarms", RunLayout.ALARMS, true, "*", "bin/oflab train (when its outlier alarm, train.alarm, is raised)"),
    /** Partitioned by run_id and step; the view gives step its type back. */
    QUANT_EVAL(QuantTables.EVAL, QuantTables.EVAL, false, QuantTables.viewColumns(QuantTables.EVAL_SCHEMA),
        "bin/oflab quant-eval"),
    QUANT_ERROR(QuantTables.ERROR, QuantTables.ERROR, false, QuantTables.viewColumns(QuantTables.ERROR_SCHEMA),
        "bin/oflab quant-eval");

    final String view;
    final String dir;
    final boolean perRun;
    final String columns;
    /** The job that writes the table. */
    final String writer;

    Table(String view, String dir, boolean perRun, String columns, String writer) {
      this.view = view;
      this.dir = dir;
      this.perRun = perRun;
      this.columns = columns;
      this.writer = writer;
    }

    /** The table's files, relative to the warehouse: a glob over the runs for a per-run table. */
    String location() {
      return perRun ? RunLayout.RUNS + "/*/" + dir : dir;
    }
  }

  private final Path warehouse;
  private final List<Table> tables;

  private WarehouseViews(Path warehouse, List<Table> tables) {
    this.warehouse = warehouse;
    this.tables = tables;
  }

  /**
   * The views of the tables {@code warehouse} holds now. {@code key} names the setting the warehouse came from,
   * for the error when its path cannot be written into a statement.
   */
  public static WarehouseViews scan(String warehouse, String key, Configuration conf) throws IOException {
    Path path = new Path(warehouse);
    FileSystem fs = path.getFileSystem(conf);
    Path qualified = fs.makeQualified(path);
    checkQuotable(qualified.toString(), key, warehouse);
    List<Table> present = new ArrayList<>();
    for (Table table : Table.values()) {
      boolean hasFiles = table.perRun
          ? !runTables(qualified.toString(), table.dir, conf).isEmpty()
          : hasParquet(fs, new Path(qualified, table.dir));
      if (hasFiles) {
        present.add(table);
      }
    }
    return new WarehouseViews(qualified, present);
  }

  /** Fails, naming the jobs that write them, when the warehouse holds no tables. */
  WarehouseViews requireTables(String key) throws FileNotFoundException {
    if (tables.isEmpty()) {
      throw new FileNotFoundException(key + " = " + warehouse + " holds no tables yet: run bin/oflab train first (it"
          + " writes runs/<run_id>/train_log, snapshots and run_info there), then bin/oflab metrics (layer_metrics)");
    }
    return this;
  }

  /**
   * For a query that failed because it names a view whose table the warehouse does not hold yet: the error that
   * says which job writes that table.
   */
  Optional<FileNotFoundException> missingTable(AnalysisException e, String key) {
    if (!"TABLE_OR_VIEW_NOT_FOUND".equals(e.getErrorClass())) {
      return Optional.empty();
    }
    String name = e.getMessageParameters().getOrDefault("relationName", "").replace("`", "");
    for (Table table : Table.values()) {
      if (table.view.equalsIgnoreCase(name) && !tables.contains(table)) {
        return Optional.of(new FileNotFoundException(key + " = " + warehouse + " has no " + table.view + " yet: "
            + table.writer + " writes it (to " + table.location().replace("*", "<run_id>") + ")"));
      }
    }
    return Optional.empty();
  }

  /** The job that writes the table behind {@code view} (for a message saying what to run). */
  public static String writerOf(String view) {
    for (Table table : Table.values()) {
      if (table.view.equals(view)) {
        return table.writer;
      }
    }
    throw new IllegalArgumentException("no view " + view);
  }

  /** The names of the views, in the order they are defined. */
  public List<String> views() {
    return tables.stream().map(t -> t.view).toList();
  }

  /** The statements that define the views, in order, without terminating semicolons. */
  List<String> statements() {
    List<String> statements = new ArrayList<>();
    statements.add("SET " + PARTITION_TYPES + "=false");
    // Tables gained columns over versions (runs: grid, point), so a warehouse may hold files of several schemas:
    // merged, a file without a column reads it as null, whichever file Spark would otherwise take the schema from.
    statements.add("SET " + MERGE_SCHEMA + "=true");
    for (Table table : tables) {
      statements.add("CREATE OR REPLACE TEMPORARY VIEW " + table.view + " AS SELECT " + table.columns
          + " FROM parquet." + backticked(new Path(warehouse, table.location()).toString()));
    }
    return statements;
  }

  /** Defines the views in {@code spark}'s session. */
  public void register(SparkSession spark) {
    for (String statement : statements()) {
      spark.sql(statement);
    }
  }

  /** The contents of views.sql: a header of comments, then each statement on its own line, ended by ';'. */
  String script() {
    StringBuilder text = new StringBuilder()
        .append("-- Outlier Lab: the tables of the warehouse ").append(warehouse).append(" as temporary views.\n")
        .append("-- Written by bin/oflab sql, sql-server and metrics, and rewritten by each of their runs.\n")
        .append("-- Use: spark-sql -i views.sql, or beeline -u jdbc:hive2://HOST:10000/default -i views.sql\n")
        .append("-- Views read their files when queried, so runs added later show up. A table missing here\n")
        .append("-- did not exist yet when the file was written: run bin/oflab sql again to add it.\n");
    for (String statement : statements()) {
      text.append(statement).append(";\n");
    }
    return text.toString();
  }

  /** Writes {@link #script()} to {@code <warehouse>/views.sql}, never half-written ({@link AtomicOutput}); returns its path. */
  Path write(Configuration conf) throws IOException {
    Path target = new Path(warehouse, FILE);
    try (AtomicOutput file = AtomicOutput.file(target, UUID.randomUUID().toString(), conf)) {
      try (FSDataOutputStream out = warehouse.getFileSystem(conf).create(file.staging(), false)) {
        out.write(script().getBytes(StandardCharsets.UTF_8));
      }
      file.publish();
    }
    return target;
  }

  /**
   * {@link #write}, except that a failure (a read-only warehouse) is logged, not thrown, and that a warehouse
   * without tables (perhaps a mistyped path) gets no file; the file if written.
   */
  Optional<Path> tryWrite(Configuration conf) {
    if (tables.isEmpty()) {
      return Optional.empty();
    }
    try {
      Path file = write(conf);
      LOG.info("views {} defined in {} (spark-sql -i or beeline -i it)", views(), file);
      return Optional.of(file);
    } catch (IOException e) {
      LOG.warn("could not write {}/{}: {}", warehouse, FILE, e.toString());
      return Optional.empty();
    }
  }

  /** Rewrites {@code <warehouse>/views.sql} after a job wrote tables there; logs, never throws, a failure. */
  public static void rewrite(String warehouse, String key, Configuration conf) {
    try {
      scan(warehouse, key, conf).tryWrite(conf);
    } catch (IOException | ConfigError e) {
      LOG.warn("{} not rewritten: {}", FILE, e.getMessage());
    }
  }

  /** {@code <warehouse>/runs/<run>/<table>} for every run that has written Parquet files to it. */
  public static List<String> runTables(String warehouse, String table, Configuration conf) throws IOException {
    Path runs = RunLayout.runs(warehouse);
    FileSystem fs = runs.getFileSystem(conf);
    List<String> dirs = new ArrayList<>();
    if (fs.exists(runs)) {
      for (var run : fs.listStatus(runs)) {
        Path dir = new Path(run.getPath(), table);
        if (fs.exists(dir) && fs.listStatus(dir, p -> isData(p.getName())).length > 0) {
          dirs.add(dir.toString());
        }
      }
    }
    return dirs;
  }

  private static boolean hasParquet(FileSystem fs, Path dir) throws IOException {
    if (!fs.exists(dir)) {
      return false;
    }
    RemoteIterator<LocatedFileStatus> files = fs.listFiles(dir, true);
    while (files.hasNext()) {
      if (isData(files.next().getPath().getName())) {
        return true;
      }
    }
    return false;
  }

  /** A Parquet data file, not a hidden one being written (Spark skips names starting with '.' or '_'). */
  private static boolean isData(String name) {
    return name.endsWith(".parquet") && !name.startsWith(".") && !name.startsWith("_");
  }

  /** An identifier in backquotes, a backquote inside doubled. */
  static String backticked(String name) {
    return "`" + name.replace("`", "``") + "`";
  }

  private static void checkQuotable(String qualified, String key, String given) {
    for (String bad : UNQUOTABLE) {
      if (qualified.contains(bad)) {
        throw new ConfigError(key + " = '" + given + "': its path " + qualified + " contains '" + bad + "', which"
            + " views.sql cannot quote for every SQL client; allowed: a path without " + String.join(" ", UNQUOTABLE)
            + " or control characters");
      }
    }
    if (qualified.chars().anyMatch(Character::isISOControl)) {
      throw new ConfigError(key + " = '" + given + "': its path contains a control character; allowed: a path"
          + " without " + String.join(" ", UNQUOTABLE) + " or control characters");
    }
  }
}

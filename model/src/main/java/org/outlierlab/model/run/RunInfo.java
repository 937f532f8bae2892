package org.outlierlab.model.run;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.outlierlab.dataprep.shard.ParquetFiles;

/**
 * A run's row of the {@code runs} table: what it is (block, resolved configuration) and how it went (status,
 * times, last losses). Rewritten atomically as the run starts and ends, in {@link RunLayout#runInfo}.
 *
 * @param status running, finished, diverged, failed, or outliers (stopped by the outlier alarm, train.alarm)
 * @param grid the grid the run is a point of ({@code bin/oflab grid}), else null
 * @param point that point, as {@code key=value} pairs joined by {@code ", "}, else null
 */
public record RunInfo(String runId, String block, String config, String status, String startedAt, String finishedAt,
    long steps, double wallS, double lastLoss, double lastValLoss, int workers, String backend, long rounds,
    double averagingS, String blas, String grid, String point) {
  static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
      message runs {
        required binary run_id (STRING);
        required binary block (STRING);
        required binary config (STRING);
        required binary status (STRING);
        required binary started_at (STRING);
        optional binary finished_at (STRING);
        required int64 steps;
        required double wall_s;
        optional double last_loss;
        optional double last_val_loss;
        required int32 workers;
        optional binary backend (STRING);
        required int64 rounds;
        optional double averaging_s;
        optional binary blas (STRING);
        optional binary grid (STRING);
        optional binary point (STRING);
      }
      """);

  public void write(String runDir, Configuration conf) throws IOException {
    ParquetFiles.write(new Path(new RunLayout(runDir).runInfo(), "part-0.parquet"), conf, SCHEMA, RunInfo::emit,
        java.util.List.of(this));
  }

  /** The status {@code runDir}'s row holds (running, finished, ...); empty when the run has written none. */
  public static java.util.Optional<String> status(String runDir, Configuration conf) throws IOException {
    Path file = new Path(new RunLayout(runDir).runInfo(), "part-0.parquet");
    if (!file.getFileSystem(conf).exists(file)) {
      return java.util.Optional.empty();
    }
    try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), file).withConf(conf).build()) {
      Group row = reader.read();
      return row == null ? java.util.Optional.empty() : java.util.Optional.of(row.getString("status", 0));
    }
  }

  private static void emit(RecordConsumer c, RunInfo r) {
    ParquetFiles.addString(c, 0, "run_id", r.runId());
    ParquetFiles.addString(c, 1, "block", r.block());
    ParquetFiles.addString(c, 2, "config", r.config());
    ParquetFiles.addString(c, 3, "status", r.status());
    ParquetFiles.addString(c, 4, "started_at", r.startedAt());
    ParquetFiles.addString(c, 5, "finished_at", r.finishedAt());
    ParquetFiles.addLong(c, 6, "steps", r.steps());
    ParquetFiles.addDouble(c, 7, "wall_s", r.wallS());
    if (Double.isFinite(r.lastLoss())) {
      ParquetFiles.addDouble(c, 8, "last_loss", r.lastLoss());
    }
    if (Double.isFinite(r.lastValLoss())) {
      ParquetFiles.addDouble(c, 9, "last_val_loss", r.lastValLoss());
    }
    ParquetFiles.addInt(c, 10, "workers", r.workers());
    ParquetFiles.addString(c, 11, "backend", r.backend());
    ParquetFiles.addLong(c, 12, "rounds", r.rounds());
    if (Double.isFinite(r.averagingS())) {
      ParquetFiles.addDouble(c, 13, "averaging_s", r.averagingS());
    }
    ParquetFiles.addString(c, 14, "blas", r.blas());
    ParquetFiles.addString(c, 15, "grid", r.grid());
    ParquetFiles.addString(c, 16, "point", r.point());
  }

  /** A run's row as it goes: written when it starts and again when it ends. */
  public static final class Builder {
    private final String runId;
    private final String block;
    private final String config;
    private final String startedAt;
    private final int workers;
    private final String grid;
    private final String point;
    private String backend;
    private String blas;

    /** {@code grid} and {@code point}: null for a run outside a grid. */
    public Builder(String runId, String block, String config, String startedAt, int workers, String grid,
        String point) {
      this.runId = runId;
      this.block = block;
      this.config = config;
      this.startedAt = startedAt;
      this.workers = workers;
      this.grid = grid;
      this.point = point;
    }

    /** Where the workers run (backend and device) and on which BLAS path, once they have started. */
    public void backend(String where, String blasPaths) {
      this.backend = where;
      this.blas = blasPaths;
    }

    public RunInfo running() {
      return new RunInfo(runId, block, config, "running", startedAt, null, 0, 0, Double.NaN, Double.NaN, workers,
          backend, 0, Double.NaN, blas, grid, point);
    }

    /** The row at the end: {@code rounds} of parameter averaging took {@code averagingS} beyond the workers' time. */
    public RunInfo ended(String status, long steps, double wallS, double lastLoss, double lastValLoss, long rounds,
        double averagingS) {
      return new RunInfo(runId, block, config, status, startedAt, java.time.Instant.now().toString(), steps, wallS,
          lastLoss, lastValLoss, workers, backend, rounds, averagingS, blas, grid, point);
    }
  }
}

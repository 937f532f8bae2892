package org.outlierlab.model.train;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.outlierlab.dataprep.shard.ParquetFiles;

/**
 * A run's row of the {@code runs} table: what it is (block, resolved configuration) and how it went (status,
 * times, last losses). Rewritten atomically as the run starts and ends, in {@code <run>/run_info/}.
 *
 * @param status running, finished, diverged or failed
 */
public record RunInfo(String runId, String block, String config, String status, String startedAt, String finishedAt,
    long steps, double wallS, double lastLoss, double lastValLoss) {
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
      }
      """);

  public void write(String runDir, Configuration conf) throws IOException {
    ParquetFiles.write(new Path(new Path(runDir, "run_info"), "part-0.parquet"), conf, SCHEMA, RunInfo::emit,
        java.util.List.of(this));
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
  }
}

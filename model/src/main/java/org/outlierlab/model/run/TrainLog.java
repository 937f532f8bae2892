package org.outlierlab.model.run;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.outlierlab.dataprep.shard.ParquetFiles;

/**
 * The {@code train_log} table: one row per logged step. Rows are buffered and written as one Parquet file per
 * flush, named by its first step; flushes happen with checkpoints, so a resumed run never duplicates rows.
 */
public final class TrainLog {
  static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
      message train_log {
        required binary run_id (STRING);
        required int64 step;
        required double loss;
        required double lr;
        required double grad_norm;
        required double tokens_per_s;
        required double wall_s;
        optional double val_loss;
        optional double val_ppl;
      }
      """);

  /** One logged step; {@code valLoss} is NaN on steps without an evaluation. */
  public record Row(String runId, long step, double loss, double lr, double gradNorm, double tokensPerS, double wallS,
      double valLoss) {}

  private final Path dir;
  private final Configuration conf;
  private final List<Row> pending = new ArrayList<>();

  public TrainLog(Path dir, Configuration conf) {
    this.dir = dir;
    this.conf = conf;
  }

  public void add(Row row) {
    pending.add(row);
  }

  public void flush() throws IOException {
    if (pending.isEmpty()) {
      return;
    }
    Path target = new Path(dir, String.format("part-%012d.parquet", pending.get(0).step()));
    ParquetFiles.write(target, conf, SCHEMA, TrainLog::emit, pending);
    pending.clear();
  }

  private static void emit(RecordConsumer c, Row r) {
    ParquetFiles.addString(c, 0, "run_id", r.runId());
    ParquetFiles.addLong(c, 1, "step", r.step());
    ParquetFiles.addDouble(c, 2, "loss", r.loss());
    ParquetFiles.addDouble(c, 3, "lr", r.lr());
    ParquetFiles.addDouble(c, 4, "grad_norm", r.gradNorm());
    ParquetFiles.addDouble(c, 5, "tokens_per_s", r.tokensPerS());
    ParquetFiles.addDouble(c, 6, "wall_s", r.wallS());
    if (!Double.isNaN(r.valLoss())) {
      ParquetFiles.addDouble(c, 7, "val_loss", r.valLoss());
      ParquetFiles.addDouble(c, 8, "val_ppl", Math.exp(r.valLoss()));
    }
  }
}

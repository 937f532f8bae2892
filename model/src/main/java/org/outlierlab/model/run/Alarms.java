package org.outlierlab.model.run;

import java.io.IOException;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.outlierlab.dataprep.shard.ParquetFiles;

/**
 * The {@code alarms} table: one row per rule the outlier alarm raised at a snapshot step (SCIENCE.md §1.8). One
 * Parquet file per step with alarms, named by the step and written whole, so a resumed run that reaches the step
 * again replaces its file rather than adding rows.
 */
public final class Alarms {
  static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
      message alarms {
        required binary run_id (STRING);
        required int64 step;
        required int32 layer;
        required binary site (STRING);
        required binary rule (STRING);
        required double value;
        required double threshold;
        required binary action (STRING);
      }
      """);

  /** A raised rule: {@code value} exceeded {@code threshold}; {@code action} is what the run did (warn or stop). */
  public record Row(String runId, long step, int layer, String site, String rule, double value, double threshold,
      String action) {}

  private Alarms() {}

  /** Writes {@code <dir>/step-<step>.parquet} atomically: the rows, all of one step. */
  public static void write(List<Row> rows, Path dir, Configuration conf) throws IOException {
    Path target = new Path(dir, String.format("step-%012d.parquet", rows.get(0).step()));
    ParquetFiles.write(target, conf, SCHEMA, Alarms::emit, rows);
  }

  private static void emit(RecordConsumer c, Row r) {
    ParquetFiles.addString(c, 0, "run_id", r.runId());
    ParquetFiles.addLong(c, 1, "step", r.step());
    ParquetFiles.addInt(c, 2, "layer", r.layer());
    ParquetFiles.addString(c, 3, "site", r.site());
    ParquetFiles.addString(c, 4, "rule", r.rule());
    ParquetFiles.addDouble(c, 5, "value", r.value());
    ParquetFiles.addDouble(c, 6, "threshold", r.threshold());
    ParquetFiles.addString(c, 7, "action", r.action());
  }
}

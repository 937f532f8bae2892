package org.outlierlab.dataprep.shard;

import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;

/**
 * Writes {@link SequenceRecord}s straight to Parquet's record consumer. {@code tokens} uses the standard
 * three-level LIST layout, so Spark reads it as {@code array<int>}.
 */
final class SequenceWriteSupport extends WriteSupport<SequenceRecord> {
  static final MessageType SCHEMA = MessageTypeParser.parseMessageType("""
      message sequence {
        required int64 seq_id;
        required group tokens (LIST) {
          repeated group list {
            required int32 element;
          }
        }
        required binary source (STRING);
        required int64 doc_index;
        optional binary repo_name (STRING);
        optional binary path (STRING);
        optional binary license (STRING);
      }
      """);

  private RecordConsumer consumer;

  @Override
  public WriteContext init(Configuration configuration) {
    return new WriteContext(SCHEMA, Map.of());
  }

  @Override
  public void prepareForWrite(RecordConsumer recordConsumer) {
    this.consumer = recordConsumer;
  }

  @Override
  public void write(SequenceRecord r) {
    consumer.startMessage();
    consumer.startField("seq_id", 0);
    consumer.addLong(r.seqId());
    consumer.endField("seq_id", 0);

    consumer.startField("tokens", 1);
    consumer.startGroup();
    if (r.tokens().length > 0) {
      consumer.startField("list", 0);
      for (int token : r.tokens()) {
        consumer.startGroup();
        consumer.startField("element", 0);
        consumer.addInteger(token);
        consumer.endField("element", 0);
        consumer.endGroup();
      }
      consumer.endField("list", 0);
    }
    consumer.endGroup();
    consumer.endField("tokens", 1);

    string(2, "source", r.firstDocument().source());
    consumer.startField("doc_index", 3);
    consumer.addLong(r.firstDocument().index());
    consumer.endField("doc_index", 3);
    string(4, "repo_name", r.firstDocument().repoName());
    string(5, "path", r.firstDocument().path());
    string(6, "license", r.firstDocument().license());
    consumer.endMessage();
  }

  private void string(int index, String name, String value) {
    if (value != null) {
      consumer.startField(name, index);
      consumer.addBinary(Binary.fromString(value));
      consumer.endField(name, index);
    }
  }
}

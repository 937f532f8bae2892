package org.outlierlab.dataprep.shard;

import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.outlierlab.dataprep.corpus.DocumentInfo;

/** One row of a token shard, and how it is laid out in Parquet. */
record SequenceRecord(long seqId, int[] tokens, DocumentInfo firstDocument) {
  /** {@code tokens} uses the standard three-level LIST layout, so Spark reads it as {@code array<int>}. */
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

  static void emit(RecordConsumer consumer, SequenceRecord r) {
    ParquetFiles.addLong(consumer, 0, "seq_id", r.seqId());
    ParquetFiles.addList(consumer, 1, "tokens", r.tokens().length, i -> consumer.addInteger(r.tokens()[i]));
    ParquetFiles.addString(consumer, 2, "source", r.firstDocument().source());
    ParquetFiles.addLong(consumer, 3, "doc_index", r.firstDocument().index());
    ParquetFiles.addString(consumer, 4, "repo_name", r.firstDocument().repoName());
    ParquetFiles.addString(consumer, 5, "path", r.firstDocument().path());
    ParquetFiles.addString(consumer, 6, "license", r.firstDocument().license());
  }
}

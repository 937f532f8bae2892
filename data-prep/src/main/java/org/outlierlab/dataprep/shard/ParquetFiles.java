package org.outlierlab.dataprep.shard;

import java.io.IOException;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.MessageType;
import org.outlierlab.dataprep.fs.AtomicOutput;

/**
 * Writing Outlier Lab's Parquet tables: a schema plus a function that emits one record, written to a hidden
 * file and renamed into place on {@link AtomicFile#commit()}, so a half-written file never has its final name.
 */
public final class ParquetFiles {
  private ParquetFiles() {}

  /** A Parquet file being written under a temporary name. */
  public static final class AtomicFile<T> implements AutoCloseable {
    private final ParquetWriter<T> writer;
    private final AtomicOutput output;
    private boolean committed;

    AtomicFile(ParquetWriter<T> writer, AtomicOutput output) {
      this.writer = writer;
      this.output = output;
    }

    public void write(T record) throws IOException {
      writer.write(record);
    }

    /** Closes the file and gives it its final name, replacing any file of that name. */
    public void commit() throws IOException {
      writer.close();
      output.publish();
      committed = true;
    }

    /** Abandons the file unless committed. */
    @Override
    public void close() throws IOException {
      if (!committed) {
        try {
          writer.close();
        } finally {
          output.close();
        }
      }
    }
  }

  /**
   * Row groups of at most this many bytes: a row group is the smallest piece of a file a Spark task can be given, so
   * a large snapshot (or shard) read by a job is spread over all cores instead of one.
   */
  static final int ROW_GROUP_BYTES = 16 << 20;

  /**
   * Opens {@code target} for writing under the hidden name {@code .<name>.<attempt>.tmp} beside it. Columns named
   * in {@code plainColumns} (dotted paths, e.g. {@code values.list.element}) are written without a dictionary: for
   * values that rarely repeat, such as activations, building one costs most of the write and is then discarded.
   */
  public static <T> AtomicFile<T> create(Path target, String attempt, Configuration conf, MessageType schema,
      BiConsumer<RecordConsumer, T> emit, String... plainColumns) throws IOException {
    AtomicOutput output = AtomicOutput.file(target, attempt, conf);
    Builder<T> builder = new Builder<>(HadoopOutputFile.fromPath(output.staging(), conf), schema, emit)
        .withConf(conf)
        .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
        .withCompressionCodec(CompressionCodecName.SNAPPY)
        .withRowGroupSize(ROW_GROUP_BYTES);
    for (String column : plainColumns) {
      builder = builder.withDictionaryEncoding(column, false);
    }
    return new AtomicFile<>(builder.build(), output);
  }

  /** A three-level LIST of {@code size} primitives; {@code element} adds the i-th value to the consumer. */
  public static void addList(RecordConsumer consumer, int index, String field, int size,
      java.util.function.IntConsumer element) {
    consumer.startField(field, index);
    consumer.startGroup();
    if (size > 0) {
      consumer.startField("list", 0);
      for (int i = 0; i < size; i++) {
        consumer.startGroup();
        consumer.startField("element", 0);
        element.accept(i);
        consumer.endField("element", 0);
        consumer.endGroup();
      }
      consumer.endField("list", 0);
    }
    consumer.endGroup();
    consumer.endField(field, index);
  }

  /** Writes {@code records} as the whole of {@code target}, atomically. */
  public static <T> void write(Path target, Configuration conf, MessageType schema, BiConsumer<RecordConsumer, T> emit,
      Iterable<T> records) throws IOException {
    try (AtomicFile<T> file = create(target, "w", conf, schema, emit)) {
      for (T record : records) {
        file.write(record);
      }
      file.commit();
    }
  }

  public static void addString(RecordConsumer consumer, int index, String field, String value) {
    if (value != null) {
      consumer.startField(field, index);
      consumer.addBinary(Binary.fromString(value));
      consumer.endField(field, index);
    }
  }

  public static void addLong(RecordConsumer consumer, int index, String field, long value) {
    consumer.startField(field, index);
    consumer.addLong(value);
    consumer.endField(field, index);
  }

  public static void addInt(RecordConsumer consumer, int index, String field, int value) {
    consumer.startField(field, index);
    consumer.addInteger(value);
    consumer.endField(field, index);
  }

  public static void addDouble(RecordConsumer consumer, int index, String field, double value) {
    consumer.startField(field, index);
    consumer.addDouble(value);
    consumer.endField(field, index);
  }

  private static final class Builder<T> extends ParquetWriter.Builder<T, Builder<T>> {
    private final MessageType schema;
    private final BiConsumer<RecordConsumer, T> emit;

    Builder(org.apache.parquet.io.OutputFile file, MessageType schema, BiConsumer<RecordConsumer, T> emit) {
      super(file);
      this.schema = schema;
      this.emit = emit;
    }

    @Override
    protected Builder<T> self() {
      return this;
    }

    @Override
    protected WriteSupport<T> getWriteSupport(Configuration conf) {
      return new WriteSupport<>() {
        private RecordConsumer consumer;

        @Override
        public WriteContext init(Configuration configuration) {
          return new WriteContext(schema, Map.of());
        }

        @Override
        public void prepareForWrite(RecordConsumer recordConsumer) {
          consumer = recordConsumer;
        }

        @Override
        public void write(T record) {
          consumer.startMessage();
          emit.accept(consumer, record);
          consumer.endMessage();
        }
      };
    }
  }
}

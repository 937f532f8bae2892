package org.outlierlab.dataprep.shard;

import java.io.Closeable;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileWriter;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.io.OutputFile;
import org.outlierlab.dataprep.corpus.DocumentInfo;
import org.outlierlab.dataprep.sequence.SequenceSink;

/**
 * Writes one partition's sequences as {@code <dir>/<split>/part-NNNNN.parquet}. Each file is written under a
 * hidden attempt-specific name and renamed into place on {@link #commit()}, so a retried or speculative task
 * never leaves a half-written shard under the final name.
 */
public final class ShardWriter implements SequenceSink, Closeable {
  private final Configuration conf;
  private final Path dir;
  private final String fileName;
  private final String attempt;
  private final Map<String, ParquetWriter<SequenceRecord>> writers = new TreeMap<>();

  public ShardWriter(Configuration conf, Path dir, int partition, String attempt) {
    this.conf = conf;
    this.dir = dir;
    this.fileName = String.format("part-%05d.parquet", partition);
    this.attempt = attempt;
  }

  @Override
  public void write(String split, long seqId, int[] tokens, DocumentInfo firstDocument) throws IOException {
    ParquetWriter<SequenceRecord> writer = writers.get(split);
    if (writer == null) {
      writer = open(temporary(split));
      writers.put(split, writer);
    }
    writer.write(new SequenceRecord(seqId, tokens, firstDocument));
  }

  private ParquetWriter<SequenceRecord> open(Path path) throws IOException {
    OutputFile file = HadoopOutputFile.fromPath(path, conf);
    return new Builder(file)
        .withConf(conf)
        .withWriteMode(ParquetFileWriter.Mode.OVERWRITE)
        .withCompressionCodec(CompressionCodecName.SNAPPY)
        .build();
  }

  /** Closes every file and moves it to its final name. */
  public void commit() throws IOException {
    for (Map.Entry<String, ParquetWriter<SequenceRecord>> e : writers.entrySet()) {
      e.getValue().close();
      Path target = new Path(new Path(dir, e.getKey()), fileName);
      FileSystem fs = target.getFileSystem(conf);
      fs.delete(target, false);
      if (!fs.rename(temporary(e.getKey()), target)) {
        throw new IOException("could not rename " + temporary(e.getKey()) + " to " + target);
      }
    }
    writers.clear();
  }

  /** Abandons uncommitted files. */
  @Override
  public void close() throws IOException {
    for (Map.Entry<String, ParquetWriter<SequenceRecord>> e : writers.entrySet()) {
      try {
        e.getValue().close();
      } finally {
        Path tmp = temporary(e.getKey());
        tmp.getFileSystem(conf).delete(tmp, false);
      }
    }
    writers.clear();
  }

  private Path temporary(String split) {
    return new Path(new Path(dir, split), "." + fileName + "." + attempt + ".tmp");
  }

  private static final class Builder extends ParquetWriter.Builder<SequenceRecord, Builder> {
    Builder(OutputFile file) {
      super(file);
    }

    @Override
    protected Builder self() {
      return this;
    }

    @Override
    protected WriteSupport<SequenceRecord> getWriteSupport(Configuration conf) {
      return new SequenceWriteSupport();
    }
  }
}

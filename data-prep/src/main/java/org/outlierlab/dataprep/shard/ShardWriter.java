package org.outlierlab.dataprep.shard;

import java.io.Closeable;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.outlierlab.dataprep.corpus.DocumentInfo;
import org.outlierlab.dataprep.sequence.SequenceSink;

/**
 * Writes one partition's sequences as {@code <dir>/<split>/part-NNNNN.parquet}, each under a hidden
 * attempt-specific name until {@link #commit()}, so a retried or speculative task never leaves a half-written
 * shard under the final name.
 */
public final class ShardWriter implements SequenceSink, Closeable {
  private final Configuration conf;
  private final Path dir;
  private final String fileName;
  private final String attempt;
  private final Map<String, ParquetFiles.AtomicFile<SequenceRecord>> files = new TreeMap<>();

  public ShardWriter(Configuration conf, Path dir, int partition, String attempt) {
    this.conf = conf;
    this.dir = dir;
    this.fileName = String.format("part-%05d.parquet", partition);
    this.attempt = attempt;
  }

  @Override
  public void write(String split, long seqId, int[] tokens, DocumentInfo firstDocument) throws IOException {
    ParquetFiles.AtomicFile<SequenceRecord> file = files.get(split);
    if (file == null) {
      file = ParquetFiles.create(new Path(new Path(dir, split), fileName), attempt, conf, SequenceRecord.SCHEMA,
          SequenceRecord::emit);
      files.put(split, file);
    }
    file.write(new SequenceRecord(seqId, tokens, firstDocument));
  }

  /** Closes every file and moves it to its final name. */
  public void commit() throws IOException {
    for (ParquetFiles.AtomicFile<SequenceRecord> file : files.values()) {
      file.commit();
    }
    files.clear();
  }

  /** Abandons uncommitted files. */
  @Override
  public void close() throws IOException {
    for (ParquetFiles.AtomicFile<SequenceRecord> file : files.values()) {
      file.close();
    }
    files.clear();
  }
}

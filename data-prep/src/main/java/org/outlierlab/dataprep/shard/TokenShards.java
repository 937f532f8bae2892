package org.outlierlab.dataprep.shard;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/**
 * Reads one split of a data-prep output back: all of it in seq_id order ({@link #read}), or shard by shard
 * ({@link #list}, {@link #readShard}) for a reader that keeps only part of a large split in memory.
 */
public final class TokenShards {
  private TokenShards() {}

  /** One Parquet file of a split and its number of rows (from the file's footer). */
  public record Shard(String path, long rows) implements Serializable {}

  /** A sequence's id and tokens. */
  private interface RowSink {
    void accept(long seqId, int[] tokens);
  }

  /** Every row of the split, in seq_id order. */
  public static int[][] read(String tokensDir, String split, Configuration conf) throws IOException {
    List<long[]> ids = new ArrayList<>();
    List<int[]> rows = new ArrayList<>();
    for (Shard shard : list(tokensDir, split, conf)) {
      readFile(new Path(shard.path()), conf, (seqId, tokens) -> {
        ids.add(new long[] {seqId, rows.size()});
        rows.add(tokens);
      });
    }
    ids.sort(Comparator.comparingLong(a -> a[0]));
    int[][] ordered = new int[rows.size()][];
    for (int i = 0; i < ordered.length; i++) {
      ordered[i] = rows.get((int) ids.get(i)[1]);
    }
    return ordered;
  }

  /** The split's shards, by file name, with their row counts; none if the split has no directory. */
  public static List<Shard> list(String tokensDir, String split, Configuration conf) throws IOException {
    Path dir = new Path(tokensDir, split);
    FileSystem fs = dir.getFileSystem(conf);
    if (!fs.exists(new Path(tokensDir, org.outlierlab.dataprep.Manifest.FILE_NAME))) {
      throw new java.io.FileNotFoundException(tokensDir + " is not a data-prep output (no "
          + org.outlierlab.dataprep.Manifest.FILE_NAME + "); run bin/oflab data-prep first");
    }
    List<Shard> shards = new ArrayList<>();
    if (fs.exists(dir)) {
      for (FileStatus f : fs.listStatus(dir, p -> p.getName().endsWith(".parquet") && !p.getName().startsWith("."))) {
        try (ParquetFileReader footer = ParquetFileReader.open(HadoopInputFile.fromStatus(f, conf))) {
          shards.add(new Shard(f.getPath().toString(), footer.getRecordCount()));
        }
      }
    }
    shards.sort(Comparator.comparing(Shard::path));
    return shards;
  }

  /** The first {@code n} rows of {@code split} in shard order (fewer if the split has fewer). */
  public static int[][] firstRows(String tokensDir, String split, long n, Configuration conf) throws IOException {
    List<int[]> rows = new ArrayList<>();
    for (Shard shard : list(tokensDir, split, conf)) {
      if (rows.size() >= n) {
        break;
      }
      for (int[] row : readShard(shard.path(), conf)) {
        if (rows.size() < n) {
          rows.add(row);
        }
      }
    }
    return rows.toArray(new int[0][]);
  }

  /** The rows of one shard, in file order. */
  public static int[][] readShard(String path, Configuration conf) throws IOException {
    List<int[]> rows = new ArrayList<>();
    readFile(new Path(path), conf, (seqId, tokens) -> rows.add(tokens));
    return rows.toArray(new int[0][]);
  }

  private static void readFile(Path file, Configuration conf, RowSink sink) throws IOException {
    try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), file).withConf(conf).build()) {
      for (Group g = reader.read(); g != null; g = reader.read()) {
        Group list = g.getGroup("tokens", 0);
        int n = list.getFieldRepetitionCount("list");
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
          tokens[i] = list.getGroup("list", i).getInteger("element", 0);
        }
        sink.accept(g.getLong("seq_id", 0), tokens);
      }
    }
  }
}

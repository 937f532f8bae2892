package org.outlierlab.dataprep.shard;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.example.GroupReadSupport;

/** Reads one split of a data-prep output back: every sequence's tokens, in seq_id order. */
public final class TokenShards {
  private TokenShards() {}

  public static int[][] read(String tokensDir, String split, Configuration conf) throws IOException {
    Path dir = new Path(tokensDir, split);
    FileSystem fs = dir.getFileSystem(conf);
    if (!fs.exists(new Path(tokensDir, org.outlierlab.dataprep.Manifest.FILE_NAME))) {
      throw new java.io.FileNotFoundException(tokensDir + " is not a data-prep output (no "
          + org.outlierlab.dataprep.Manifest.FILE_NAME + "); run bin/oflab data-prep first");
    }
    List<long[]> ids = new ArrayList<>();
    List<int[]> rows = new ArrayList<>();
    if (fs.exists(dir)) {
      for (FileStatus f : fs.listStatus(dir, p -> p.getName().endsWith(".parquet") && !p.getName().startsWith("."))) {
        try (ParquetReader<Group> reader = ParquetReader.builder(new GroupReadSupport(), f.getPath())
            .withConf(conf).build()) {
          for (Group g = reader.read(); g != null; g = reader.read()) {
            Group list = g.getGroup("tokens", 0);
            int n = list.getFieldRepetitionCount("list");
            int[] tokens = new int[n];
            for (int i = 0; i < n; i++) {
              tokens[i] = list.getGroup("list", i).getInteger("element", 0);
            }
            ids.add(new long[] {g.getLong("seq_id", 0), rows.size()});
            rows.add(tokens);
          }
        }
      }
    }
    ids.sort(Comparator.comparingLong(a -> a[0]));
    int[][] ordered = new int[rows.size()][];
    for (int i = 0; i < ordered.length; i++) {
      ordered[i] = rows.get((int) ids.get(i)[1]);
    }
    return ordered;
  }
}

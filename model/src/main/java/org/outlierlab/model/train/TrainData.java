package org.outlierlab.model.train;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.outlierlab.dataprep.Splits;
import org.outlierlab.dataprep.shard.TokenShards;

/** Token rows of a data-prep split, as training reads them: each row holds a sequence and its next token. */
public final class TrainData {
  private TrainData() {}

  /** Every row of {@code split}, checked to hold seqLen + 1 tokens. */
  public static int[][] read(String tokensDir, String split, int seqLen, Configuration conf) throws IOException {
    int[][] rows = TokenShards.read(tokensDir, split, conf);
    for (int[] row : rows) {
      requireLength(row, seqLen + 1, tokensDir);
    }
    return rows;
  }

  /** Fails, naming the fix, unless the row holds {@code rowLength} tokens (a sequence and its next token). */
  static void requireLength(int[] row, int rowLength, String where) {
    if (row.length != rowLength) {
      throw new IllegalArgumentException("the shards in " + where + " hold rows of " + row.length
          + " tokens; a model with model.seq_len = " + (rowLength - 1) + " needs rows of " + rowLength
          + " (inputs and next-token targets): set model.seq_len to " + (row.length - 1));
    }
  }

  /** Tokens [offset, offset + t) of the given rows: offset 0 gives inputs, 1 the next-token targets. */
  public static int[][] slice(int[][] rows, int offset, int t) {
    int[][] out = new int[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      out[i] = Arrays.copyOfRange(rows[i], offset, offset + t);
    }
    return out;
  }

  /** The training split as a stream of batches for worker {@code worker} of {@code workers}, read shard by shard. */
  public static ShardStream stream(TrainSettings s, int seqLen, int workers, int worker, Configuration conf)
      throws IOException {
    return stream(s.tokensDir(), seqLen, s.batchSize(), workers, worker, s.seed(), s.shuffleWindow(), conf);
  }

  /** As above, with the settings spelled out. */
  public static ShardStream stream(String tokensDir, int seqLen, int batchSize, int workers, int worker, long seed,
      long shuffleWindow, Configuration conf) throws IOException {
    List<TokenShards.Shard> shards = TokenShards.list(tokensDir, Splits.TRAIN, conf);
    return new ShardStream(shards, seqLen + 1, batchSize, workers, worker, seed, shuffleWindow,
        path -> TokenShards.readShard(path, conf));
  }
}

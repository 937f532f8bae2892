package org.outlierlab.model.train;

import java.io.IOException;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.outlierlab.dataprep.shard.TokenShards;

/** Token rows of a data-prep split, as training reads them: each row holds a sequence and its next token. */
public final class TrainData {
  private TrainData() {}

  /** Every row of {@code split}, checked to hold seqLen + 1 tokens. */
  public static int[][] read(String tokensDir, String split, int seqLen, Configuration conf) throws IOException {
    int[][] rows = TokenShards.read(tokensDir, split, conf);
    for (int[] row : rows) {
      if (row.length != seqLen + 1) {
        throw new IllegalArgumentException("the shards in " + tokensDir + " hold rows of " + row.length
            + " tokens; a model with model.seq_len = " + seqLen + " needs rows of " + (seqLen + 1)
            + " (inputs and next-token targets): set model.seq_len to " + (row.length - 1));
      }
    }
    return rows;
  }

  /** Worker {@code index}'s share of the rows: those whose position modulo {@code workers} is the index. */
  public static int[][] share(int[][] rows, int index, int workers) {
    int[][] out = new int[(rows.length - index + workers - 1) / workers][];
    for (int i = index, k = 0; i < rows.length; i += workers, k++) {
      out[k] = rows[i];
    }
    return out;
  }

  /** Tokens [offset, offset + t) of the given rows: offset 0 gives inputs, 1 the next-token targets. */
  static int[][] slice(int[][] rows, int[] ids, int offset, int t) {
    int[][] out = new int[ids.length][];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Arrays.copyOfRange(rows[ids[i]], offset, offset + t);
    }
    return out;
  }
}

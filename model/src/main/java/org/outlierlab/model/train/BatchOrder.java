package org.outlierlab.model.train;

/**
 * Which rows make up batch k: each epoch visits every row once in an order drawn from the seed and the epoch
 * number, so the sequence of batches is a pure function of (seed, k) and a resumed run continues exactly.
 * A batch that would straddle two epochs is taken whole from the next one.
 */
public final class BatchOrder {
  private final int rows;
  private final int batchSize;
  private final long seed;
  private final int batchesPerEpoch;
  private int cachedEpoch = -1;
  private int[] permutation;

  public BatchOrder(int rows, int batchSize, long seed) {
    if (rows < batchSize) {
      throw new IllegalArgumentException(
          "train.batch_size = " + batchSize + " is larger than the " + rows + " training sequences");
    }
    this.rows = rows;
    this.batchSize = batchSize;
    this.seed = seed;
    this.batchesPerEpoch = rows / batchSize;
  }

  /** Row indices of batch {@code k} (0-based, counted over the whole run). */
  public int[] batch(long k) {
    int epoch = (int) (k / batchesPerEpoch);
    int offset = (int) (k % batchesPerEpoch) * batchSize;
    int[] order = permutation(epoch);
    int[] out = new int[batchSize];
    System.arraycopy(order, offset, out, 0, batchSize);
    return out;
  }

  private int[] permutation(int epoch) {
    if (epoch != cachedEpoch) {
      java.util.SplittableRandom random = new java.util.SplittableRandom(seed * 1_000_003L + epoch);
      permutation = new int[rows];
      for (int i = 0; i < rows; i++) {
        permutation[i] = i;
      }
      for (int i = rows - 1; i > 0; i--) { // Fisher-Yates
        int j = random.nextInt(i + 1);
        int t = permutation[i];
        permutation[i] = permutation[j];
        permutation[j] = t;
      }
      cachedEpoch = epoch;
    }
    return permutation;
  }
}

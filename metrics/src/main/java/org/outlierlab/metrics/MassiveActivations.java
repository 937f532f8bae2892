package org.outlierlab.metrics;

/**
 * The two numbers of Sun et al. 2024's massive-activation rule for one activation tensor X (N token rows × d
 * neurons): the largest magnitude max_ij |x_ij| and the median magnitude median_ij |x_ij| over all N·d entries (the
 * lower middle value for an even count, as {@link Statistic#MMR_MEAN}'s median). Sun et al. call an activation
 * massive when its magnitude exceeds 100 and about 1000 times the median magnitude of its hidden states.
 */
public record MassiveActivations(double maxAbs, double medianAbs) {

  /** Of the rows, each of the same width; O(N·d) time and three doubles of work space per entry. */
  public static MassiveActivations of(float[][] rows) {
    int d = rows.length == 0 ? 0 : rows[0].length;
    double[] abs = new double[rows.length * d];
    double max = 0;
    int k = 0;
    for (float[] row : rows) {
      if (row.length != d) {
        throw new IllegalArgumentException("row of " + row.length + " values in a layer of width " + d);
      }
      for (float x : row) {
        abs[k] = Math.abs(x);
        max = Math.max(max, abs[k++]);
      }
    }
    if (abs.length == 0) {
      return new MassiveActivations(Double.NaN, Double.NaN);
    }
    double median = Select.kth(abs, (abs.length - 1) / 2, new double[abs.length], new double[abs.length]);
    return new MassiveActivations(max, median);
  }

  /** max |x| / median |x|: how many times the median magnitude the largest one is. */
  public double ratio() {
    return maxAbs / medianAbs;
  }
}

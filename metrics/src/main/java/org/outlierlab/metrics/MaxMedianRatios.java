package org.outlierlab.metrics;

import java.io.Serializable;
import java.util.Arrays;

/**
 * {@link Requirement#MAX_MEDIAN_RATIOS} (or, of the width-centred rows, {@link
 * Requirement#WIDTH_CENTRED_MAX_MEDIAN_RATIOS}): each row's max_j |x_ij| / median_j |x_ij|, the median the lower
 * middle value for even d as torch's, one value a row in a primitive array that grows by doubling, kept whole for
 * the exact median over rows.
 */
final class MaxMedianRatios implements Serializable {
  private double[] values = new double[1024];
  private int count;
  /**
   * The ratio of the row less {@code offset} in every entry: 0 for the row as it is, its mean for the centred row.
   * {@code work} holds three arrays of the row's length, overwritten: the |values| and the median's scratch.
   */
  void add(float[] row, double offset, double[][] work) {
    double[] abs = work[0];
    double max = 0;
    for (int j = 0; j < row.length; j++) {
      abs[j] = Math.abs(row[j] - offset);
      max = Math.max(max, abs[j]);
    }
    add(max / Select.kth(abs, (row.length - 1) / 2, work[1], work[2]));
  }

  private void add(double ratio) {
    if (count == values.length) {
      values = Arrays.copyOf(values, 2 * count);
    }
    values[count++] = ratio;
  }

  void merge(MaxMedianRatios o) {
    for (int i = 0; i < o.count; i++) {
      add(o.values[i]);
    }
  }

  double mean() {
    return Arrays.stream(values, 0, count).average().orElse(Double.NaN);
  }

  double max() {
    return Arrays.stream(values, 0, count).max().orElse(Double.NaN);
  }

  /** The lower middle value for even counts. */
  double median() {
    return Select.kth(Arrays.copyOf(values, count), (count - 1) / 2, new double[count], new double[count]);
  }
}

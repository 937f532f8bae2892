package org.outlierlab.model.quant;

import java.util.Arrays;

/**
 * A static activation range from calibration batches: each batch's extremes (its minimum and maximum, or with a
 * percentile p below 100 its (100 − p)-th and p-th percentiles, linearly interpolated as numpy's default), folded
 * into a running min-max: the first batch sets the range, each later one moves it by (1 − momentum) towards its own
 * (Bondarenko et al.'s running min-max estimator; SCIENCE.md §5).
 */
public final class RangeEstimator {
  private final double momentum;
  private final double percentile;
  private double lo;
  private double hi;
  private int batches;

  public RangeEstimator(double momentum, double percentile) {
    if (!(momentum >= 0 && momentum < 1) || !(percentile > 50 && percentile <= 100)) {
      throw new IllegalArgumentException("momentum " + momentum + " (allowed: [0, 1)), percentile " + percentile
          + " (allowed: (50, 100])");
    }
    this.momentum = momentum;
    this.percentile = percentile;
  }

  /** Folds one batch's values of the tensor in. */
  public void add(double[] values) {
    double[] extremes = percentile == 100 ? minMax(values) : percentiles(values, percentile);
    if (batches == 0) {
      lo = extremes[0];
      hi = extremes[1];
    } else {
      lo = momentum * lo + (1 - momentum) * extremes[0];
      hi = momentum * hi + (1 - momentum) * extremes[1];
    }
    batches++;
  }

  public int batches() {
    return batches;
  }

  /** The range so far: [lo, hi]. */
  public double[] range() {
    if (batches == 0) {
      throw new IllegalStateException("no calibration batch was added");
    }
    return new double[] {lo, hi};
  }

  private static double[] minMax(double[] values) {
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    return new double[] {min, max};
  }

  /** The (100 − p)-th and p-th percentiles. */
  static double[] percentiles(double[] values, double p) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return new double[] {quantile(sorted, (100 - p) / 100), quantile(sorted, p / 100)};
  }

  /** numpy's linear quantile of sorted values: position q·(n − 1), interpolated between its neighbours. */
  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int below = (int) Math.floor(pos);
    int above = Math.min(below + 1, sorted.length - 1);
    return sorted[below] + (pos - below) * (sorted[above] - sorted[below]);
  }
}

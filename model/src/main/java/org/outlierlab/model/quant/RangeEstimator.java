package org.outlierlab.model.quant;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

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

  /** Folds one batch's tensor in (its extremes taken natively: no copy unless a percentile needs one). */
  public void add(INDArray batch) {
    fold(percentile == 100 ? new double[] {batch.minNumber().doubleValue(), batch.maxNumber().doubleValue()}
        : percentiles(batch.dup('c').data().asDouble(), percentile));
  }

  private void fold(double[] extremes) {
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

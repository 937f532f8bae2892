package org.outlierlab.model.quant;

import java.io.Serializable;

/**
 * A b-bit integer grid: signed (symmetric) codes −(2^(b−1) − 1) … 2^(b−1) − 1, the restricted range that keeps 0 in the
 * middle (−127 … 127 for int8), or unsigned (asymmetric) codes 0 … 2^b − 1 with a zero point.
 */
public record IntGrid(int bits, boolean signed) implements Serializable {
  public IntGrid {
    if (bits < 2 || bits > 16) {
      throw new IllegalArgumentException("bits = " + bits + "; allowed: 2 to 16");
    }
  }

  public long min() {
    return signed ? -((1L << (bits - 1)) - 1) : 0;
  }

  public long max() {
    return signed ? (1L << (bits - 1)) - 1 : (1L << bits) - 1;
  }

  public long clamp(long q) {
    return Math.max(min(), Math.min(max(), q));
  }

  /**
   * The scale and zero point that map [lo, hi] onto the grid: symmetric, s = max(|lo|, |hi|) / q_max and z = 0;
   * asymmetric, the range widened to hold 0, s = (hi − lo) / (2^b − 1) and z = round(−lo / s). An empty range (all
   * zeros) gets the smallest scale, so that every value stays exactly 0.
   */
  public double[] scaleAndZero(double lo, double hi) {
    if (!(lo <= hi)) {
      throw new IllegalArgumentException("range [" + lo + ", " + hi + "] is empty or not a number");
    }
    if (signed) {
      return new double[] {Math.max(Math.max(Math.abs(lo), Math.abs(hi)) / max(), Quantizer.MIN_SCALE), 0};
    }
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
    double s = Math.max((hi - lo) / max(), Quantizer.MIN_SCALE);
    return new double[] {s, clamp(round(-lo / s))};
  }

  /** Round half away from zero, as ND4J's round op (and C's round). */
  public static long round(double v) {
    return (long) (Math.signum(v) * Math.floor(Math.abs(v) + 0.5));
  }
}

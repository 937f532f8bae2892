package org.outlierlab.model.quant;

/**
 * A weight's symmetric quantiser from its values: the range max|w| (min-max), or the range among
 * {@value #CANDIDATES} evenly spaced fractions of it that gives the least squared error (MSE search, as Bondarenko et
 * al.'s code sets weight ranges), for the whole tensor or for each output channel (column of [fan_in, fan_out]).
 */
public final class WeightRange {
  public enum Method {
    MINMAX,
    MSE
  }

  /** Ranges tried by the MSE search: max|w|·k / CANDIDATES for k = 1 … CANDIDATES. */
  static final int CANDIDATES = 100;

  private WeightRange() {}

  /** The quantiser of a weight [fan_in, fan_out], its values row-major. */
  public static Quantizer.Static of(double[] w, int fanOut, Protocol.Weights spec) {
    IntGrid grid = spec.grid();
    int channels = spec.granularity() == Protocol.Granularity.CHANNEL ? fanOut : 1;
    double[] scale = new double[channels];
    for (int c = 0; c < channels; c++) {
      int first = channels == 1 ? 0 : c;
      int stride = channels == 1 ? 1 : fanOut;
      double maxAbs = 0;
      for (int i = first; i < w.length; i += stride) {
        maxAbs = Math.max(maxAbs, Math.abs(w[i]));
      }
      double range = spec.range() == Method.MSE ? mseRange(w, first, stride, maxAbs, grid) : maxAbs;
      scale[c] = grid.scaleAndZero(-range, range)[0];
    }
    return new Quantizer.Static(grid, scale, new double[channels]);
  }

  /** The candidate range with the least Σ (w − q(w))² over w[first], w[first + stride], …. */
  private static double mseRange(double[] w, int first, int stride, double maxAbs, IntGrid grid) {
    double best = maxAbs;
    double bestError = Double.POSITIVE_INFINITY;
    for (int k = CANDIDATES; k >= 1; k--) { // from the full range down: ties keep the larger range
      double range = maxAbs * k / CANDIDATES;
      double s = grid.scaleAndZero(-range, range)[0];
      double error = 0;
      for (int i = first; i < w.length; i += stride) {
        double e = w[i] - grid.clamp(IntGrid.round(w[i] / s)) * s;
        error += e * e;
      }
      if (error < bestError) {
        best = range;
        bestError = error;
      }
    }
    return best;
  }
}

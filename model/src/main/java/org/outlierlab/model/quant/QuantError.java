package org.outlierlab.model.quant;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What quantising one tensor costs, the quantiser applied to the full-precision tensor alone (so that each site's
 * error is its own, not its inputs'): the signal-to-quantisation-noise ratio, the relative error, the share of values
 * clipped to the grid's ends, the scale and zero point (for per-channel or per-token scales their median), and the
 * tensor's largest and median magnitude, whose ratio is what a per-tensor range has to span.
 *
 * @param sqnrDb 10·log10(Σx² / Σ(x − q(x))²); null when q(x) = x exactly
 * @param relError ‖x − q(x)‖ / ‖x‖ (0 for an all-zero tensor)
 */
public record QuantError(Double sqnrDb, double relError, double clippedFraction, double scale, double zeroPoint,
    double maxAbs, double medianAbs) {

  /** A tensor prepared once for the errors of several quantisers: its values by row, and its magnitudes' extremes. */
  public static final class Tensor {
    private final double[] values;
    private final int rowLength;
    private final double maxAbs;
    private final double medianAbs;

    public Tensor(INDArray x) {
      values = x.dup('c').data().asDouble();
      rowLength = (int) x.size(x.rank() - 1);
      double[] abs = Arrays.stream(values).map(Math::abs).toArray();
      maxAbs = Arrays.stream(abs).max().orElse(0);
      medianAbs = median(abs);
    }
  }

  /** The error of {@code q} on {@code x}: per-token scales along the last axis, per-channel along the last axis. */
  public static QuantError measure(Quantizer q, INDArray x) {
    return measure(q, new Tensor(x));
  }

  /** The error of {@code q} on a prepared tensor. */
  public static QuantError measure(Quantizer q, Tensor t) {
    double[] v = t.values;
    int rowLength = t.rowLength;
    int rows = v.length / rowLength;
    double signal = 0;
    double noise = 0;
    long clipped = 0;
    double[] rowScales = q instanceof Quantizer.PerToken ? new double[rows] : null;
    for (int row = 0; row < rows; row++) {
      double s = 0;
      if (q instanceof Quantizer.PerToken token) {
        double maxAbs = 0;
        for (int j = 0; j < rowLength; j++) {
          maxAbs = Math.max(maxAbs, Math.abs(v[row * rowLength + j]));
        }
        s = token.scale(maxAbs);
        rowScales[row] = s;
      }
      for (int j = 0; j < rowLength; j++) {
        double xi = v[row * rowLength + j];
        double deq;
        long raw;
        if (q instanceof Quantizer.Static st) {
          int channel = st.perChannel() ? j : 0;
          raw = IntGrid.round(xi / st.scale()[channel]) + (long) st.zeroPoint()[channel];
          deq = st.value(q.grid().clamp(raw), channel);
        } else {
          raw = IntGrid.round(xi / s);
          deq = q.grid().clamp(raw) * s;
        }
        if (raw != q.grid().clamp(raw)) {
          clipped++;
        }
        signal += xi * xi;
        noise += (xi - deq) * (xi - deq);
      }
    }
    double[] scales = q instanceof Quantizer.Static st ? st.scale() : rowScales;
    double[] zeros = q instanceof Quantizer.Static st ? st.zeroPoint() : new double[] {0};
    return new QuantError(noise == 0 ? null : 10 * Math.log10(signal / noise),
        signal == 0 ? 0 : Math.sqrt(noise / signal), (double) clipped / v.length, median(scales), median(zeros),
        t.maxAbs, t.medianAbs);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }
}

package org.outlierlab.model.quant;

import java.io.Serializable;
import java.util.Arrays;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A uniform integer fake-quantiser: x ↦ (clamp(round(x / s) + z, q_min, q_max) − z)·s, the integer code scaled back
 * to a float, so that a float network computes what an integer one would (SCIENCE.md §5). {@code round} is half away
 * from zero, as ND4J's {@code round} op. The same arithmetic runs in the graph ({@link #apply(SDVariable)}, in the
 * model's precision) and on arrays here ({@link #code}, for calibration, errors and tests).
 */
public sealed interface Quantizer extends Serializable {
  /** The smallest scale a range gives: an all-zero tensor (or token) still divides by a positive number. */
  double MIN_SCALE = 1e-30;

  /** The transform of a site's tensor: its fake-quantised value. */
  SDVariable apply(SDVariable x);

  /** The quantiser's integer grid. */
  IntGrid grid();

  /**
   * Static ranges: one scale and zero point for the whole tensor, or one per output channel (the last axis of a
   * weight [fan_in, fan_out]: each column has its own).
   */
  record Static(IntGrid grid, double[] scale, double[] zeroPoint) implements Quantizer {
    public Static {
      if (scale.length != zeroPoint.length || scale.length == 0) {
        throw new IllegalArgumentException("scales and zero points: " + scale.length + " and " + zeroPoint.length);
      }
      scale = scale.clone();
      zeroPoint = zeroPoint.clone();
    }

    /** The grid that covers [lo, hi] (widened to hold 0, as an integer kernel's zero padding needs). */
    public static Static forRange(IntGrid grid, double lo, double hi) {
      double[] sz = grid.scaleAndZero(lo, hi);
      return new Static(grid, new double[] {sz[0]}, new double[] {sz[1]});
    }

    public boolean perChannel() {
      return scale.length > 1;
    }

    @Override
    public SDVariable apply(SDVariable x) {
      SameDiff sd = x.getSameDiff();
      SDVariable s = constant(sd, x, scale);
      boolean zero = Arrays.stream(zeroPoint).allMatch(z -> z == 0);
      SDVariable v = sd.math.round(x.div(s));
      if (!zero) {
        v = v.add(constant(sd, x, zeroPoint));
      }
      v = sd.math.clipByValue(v, grid.min(), grid.max());
      if (!zero) {
        v = v.sub(constant(sd, x, zeroPoint));
      }
      return v.mul(s);
    }

    /** The integer code of {@code x} in channel {@code channel} (0 for a per-tensor quantiser). */
    public long code(double x, int channel) {
      return grid.clamp(IntGrid.round(x / scale[channel]) + (long) zeroPoint[channel]);
    }

    /** The value code {@code q} stands for in channel {@code channel}. */
    public double value(long q, int channel) {
      return (q - zeroPoint[channel]) * scale[channel];
    }

    private static SDVariable constant(SameDiff sd, SDVariable like, double[] values) {
      INDArray a = values.length == 1 ? Nd4j.scalar(values[0]) : Nd4j.createFromArray(values);
      return sd.constant(a.castTo(like.dataType()));
    }
  }

  /**
   * Dynamic symmetric ranges per token: each row of the last axis gets s = max|x| / q_max from its own values, as
   * SmoothQuant, torchao and llm-compressor quantise activations at run time; nothing is calibrated.
   */
  record PerToken(IntGrid grid) implements Quantizer {
    public PerToken {
      if (!grid.signed()) {
        throw new IllegalArgumentException("per-token quantisation is symmetric: it needs a signed grid");
      }
    }

    @Override
    public SDVariable apply(SDVariable x) {
      SameDiff sd = x.getSameDiff();
      SDVariable s = sd.math.max(sd.math.abs(x).max(true, -1).div(grid.max()),
          sd.constant(Nd4j.scalar(MIN_SCALE).castTo(x.dataType())));
      return sd.math.clipByValue(sd.math.round(x.div(s)), grid.min(), grid.max()).mul(s);
    }

    /** The scale of a row whose largest magnitude is {@code maxAbs}. */
    public double scale(double maxAbs) {
      return Math.max(maxAbs / grid.max(), MIN_SCALE);
    }
  }
}
